package dev.ferry.devtools;

import dev.ferry.testkit.FerryInfra;
import dev.ferry.testkit.Infra;
import dev.ferry.testkit.TestDatabase;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;

@Command(
    name = "dev",
    mixinStandardHelpOptions = true,
    description = {
      "Runs embedded Kafka and PostgreSQL for local development.",
      "",
      "Prints their addresses as FERRY_* variables to export; runs until Ctrl-C."
    })
public final class DevCommand implements Callable<Integer> {
  @Override
  public Integer call() throws InterruptedException {
    System.out.println("Starting embedded Kafka and PostgreSQL…");
    Infra infra = FerryInfra.start(Map.of());
    TestDatabase db = infra.newDatabase("ferry");
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  infra.close();
                  done.countDown();
                },
                "ferry-dev-shutdown"));
    System.out.println();
    System.out.println("Ready. In another terminal:");
    System.out.println("  export FERRY_KAFKA_BOOTSTRAP_SERVERS=" + infra.bootstrapServers());
    System.out.println("  export FERRY_DB_URL='" + db.url() + "'");
    System.out.println("  export FERRY_DB_USER=" + db.user());
    System.out.println("  export FERRY_DB_PASSWORD='" + db.password() + "'");
    System.out.println("  ./ferry orchestrator &  ./ferry worker &");
    System.out.println("  ./ferry submit --type echo --payload '{\"hello\":\"world\"}'");
    System.out.println();
    System.out.println("Press Ctrl-C to stop (data is discarded).");
    done.await();
    return 0;
  }
}
