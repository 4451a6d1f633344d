package dev.ferry.worker.handlers;

import dev.ferry.worker.api.JobHandler;
import java.util.Collection;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The handlers a worker knows, by type: built-ins, ServiceLoader ones, then explicit ones. */
public final class HandlerRegistry {
  private final Map<String, JobHandler> handlers;

  private HandlerRegistry(Map<String, JobHandler> handlers) {
    this.handlers = Map.copyOf(handlers);
  }

  /** Built-ins, plus every {@link JobHandler} found by ServiceLoader, plus {@code extra}. */
  public static HandlerRegistry load(Collection<JobHandler> extra) {
    Map<String, JobHandler> m = new TreeMap<>();
    for (JobHandler h :
        new JobHandler[] {new NoopHandler(), new EchoHandler(), new SleepHandler(), new HttpHandler()}) {
      m.put(h.type(), h);
    }
    for (JobHandler h : ServiceLoader.load(JobHandler.class)) {
      m.put(h.type(), h);
    }
    for (JobHandler h : extra) {
      m.put(h.type(), h);
    }
    return new HandlerRegistry(m);
  }

  /** The handler for a type, or null. */
  public JobHandler get(String type) {
    return type == null ? null : handlers.get(type);
  }

  /** Known type names, sorted. */
  public Collection<String> types() {
    return new TreeMap<>(handlers).keySet();
  }
}
