# Ferry image: the runtime (no embedded Kafka or PostgreSQL, no test libraries): one runnable
# jar, every production command (`orchestrator`, `worker`, `migrate`, `status`, …).
FROM maven:3.9.11-eclipse-temurin-21 AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -ntp -q install -DskipTests

FROM eclipse-temurin:21-jre
WORKDIR /opt/ferry
COPY --from=build /src/cli/target/ferry.jar /opt/ferry/ferry.jar
COPY --from=build /src/cli/target/lib /opt/ferry/lib
# Handler jars of your own: COPY them here in an image FROM this one (examples/handler-project).
RUN mkdir -p /opt/ferry/handlers
ENV FERRY_HANDLERS_DIR=/opt/ferry/handlers
USER 10001
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/ferry/ferry.jar"]
CMD ["--help"]
