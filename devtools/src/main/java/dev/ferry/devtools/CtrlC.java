package dev.ferry.devtools;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Waiting for Ctrl-C (SIGINT/SIGTERM) with an orderly stop: open it as the first resource of a
 * try-with-resources, so that it closes last. On Ctrl-C {@link #await()} returns, the other
 * resources close in order, and closing this one lets the JVM end.
 */
final class CtrlC implements AutoCloseable {
  private final CountDownLatch stop = new CountDownLatch(1);
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Thread hook;

  CtrlC() {
    hook =
        new Thread(
            () -> {
              stop.countDown();
              try {
                closed.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "ferry-ctrl-c");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Blocks until Ctrl-C. */
  void await() throws InterruptedException {
    stop.await();
  }

  @Override
  public void close() {
    closed.countDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running: it returns now that everything is closed.
    }
  }
}
