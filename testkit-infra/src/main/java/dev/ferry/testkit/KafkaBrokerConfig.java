package dev.ferry.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * The configuration of a single-node KRaft broker (broker and controller in one) on loopback, tuned
 * for tests: replication factor 1, no initial rebalance delay, few internal partitions. With a
 * {@code saslPort}, a second listener there takes SASL/PLAIN logins of {@code users} (name →
 * password); the broker's own traffic stays on the plain listener.
 */
record KafkaBrokerConfig(
    Path dataDir,
    int brokerPort,
    int controllerPort,
    String clusterId,
    int saslPort,
    Map<String, String> users) {

  KafkaBrokerConfig(Path dataDir, int brokerPort, int controllerPort, String clusterId) {
    this(dataDir, brokerPort, controllerPort, clusterId, 0, Map.of());
  }

  /** The {@code bootstrap.servers} of the SASL listener. */
  String saslBootstrapServers() {
    return "127.0.0.1:" + saslPort;
  }

  String bootstrapServers() {
    return "127.0.0.1:" + brokerPort;
  }

  Properties properties() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dataDir.resolve("logs").toString());
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "1");
    p.put("auto.create.topics.enable", "true");
    p.put("broker.session.timeout.ms", "3000");
    p.put("broker.heartbeat.interval.ms", "500");
    p.put("num.network.threads", "2");
    p.put("num.io.threads", "4");
    p.put("log.segment.bytes", String.valueOf(256 * 1024 * 1024));
    p.put("group.consumer.min.session.timeout.ms", "3000");
    p.put("group.min.session.timeout.ms", "3000");
    if (saslPort > 0) {
      p.put(
          "listeners",
          "PLAINTEXT://127.0.0.1:"
              + brokerPort
              + ",SASL_PLAINTEXT://127.0.0.1:"
              + saslPort
              + ",CONTROLLER://127.0.0.1:"
              + controllerPort);
      p.put(
          "advertised.listeners",
          "PLAINTEXT://127.0.0.1:" + brokerPort + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort);
      p.put(
          "listener.security.protocol.map",
          "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
      p.put("sasl.enabled.mechanisms", "PLAIN");
      StringBuilder jaas =
          new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
      users.forEach(
          (user, password) ->
              jaas.append(" user_").append(user).append("=\"").append(password).append('"'));
      p.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas.append(';').toString());
    }
    return p;
  }

  Path write() {
    try {
      Files.createDirectories(dataDir);
      Path file = dataDir.resolve("server.properties");
      try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        properties().store(w, "Ferry testkit Kafka broker");
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
