# Ferry image: one runnable jar, every command (`orchestrator`, `worker`, `migrate`, …).
FROM maven:3.9.11-eclipse-temurin-21 AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -ntp -q install -DskipTests

FROM eclipse-temurin:21-jre
WORKDIR /opt/ferry
COPY --from=build /src/cli/target/ferry.jar /opt/ferry/ferry.jar
COPY --from=build /src/cli/target/lib /opt/ferry/lib
USER 10001
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/ferry/ferry.jar"]
CMD ["--help"]
