package dev.ferry.bench;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.testkit.FerryInfra;
import dev.ferry.testkit.Infra;
import dev.ferry.testkit.TestDatabase;
import dev.ferry.worker.Worker;
import dev.ferry.worker.api.JobHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A whole Ferry installation in one JVM for the demo and benchmarks: embedded (or external, see
 * {@link FerryInfra}) Kafka and PostgreSQL, one orchestrator and some workers.
 */
public final class LocalCluster implements AutoCloseable {
  private final Infra infra;
  private final FerryConfig config;
  private final Orchestrator orchestrator;
  private final List<Worker> workers = new ArrayList<>();

  private LocalCluster(Infra infra, FerryConfig config, Orchestrator orchestrator) {
    this.infra = infra;
    this.config = config;
    this.orchestrator = orchestrator;
  }

  /**
   * Starts infrastructure, a database named {@code dbName}, an orchestrator and
   * {@code workers} workers.
   *
   * @param tune adjusts the configuration before anything starts
   */
  public static LocalCluster start(
      String dbName, int workers, UnaryOperator<FerryConfig> tune, List<JobHandler> handlers) {
    Infra infra = BenchInfra.start();
    try {
      TestDatabase db = infra.newDatabase(dbName);
      FerryConfig base = FerryConfig.defaults();
      for (Map.Entry<String, String> e : BenchInfra.kafkaProperties().entrySet()) {
        base = base.withKafka(e.getKey(), e.getValue());
      }
      FerryConfig config =
          tune.apply(
              base
                  .with(Setting.KAFKA_BOOTSTRAP_SERVERS, infra.bootstrapServers())
                  .with(Setting.DB_URL, db.url())
                  .with(Setting.DB_USER, db.user())
                  .with(Setting.DB_PASSWORD, db.password())
                  // Several processes' worth of parts in one JVM: any free health port each.
                  .with(Setting.HEALTH_PORT, "0"));
      LocalCluster c = new LocalCluster(infra, config, Orchestrator.start(config));
      for (int i = 0; i < workers; i++) {
        c.workers.add(Worker.start(config.with(Setting.WORKER_ID, "worker-" + (i + 1)), handlers));
      }
      return c;
    } catch (RuntimeException e) {
      infra.close();
      throw e;
    }
  }

  public FerryConfig config() {
    return config;
  }

  public List<Worker> workers() {
    return workers;
  }

  @Override
  public void close() {
    for (Worker w : workers) {
      w.close();
    }
    orchestrator.close();
    infra.close();
  }
}
