package dev.ferry.core.model;

/**
 * A submission's {@code unique}: no second job with this key while one is not finished ({@code
 * forMs} null, {@code "while": "active"}), or while one was created less than {@code forMs} ago.
 */
public record UniqueSpec(String key, Long forMs) {
  /** Whether the key is held while a job with it is not terminal. */
  public boolean whileActive() {
    return forMs == null;
  }
}
