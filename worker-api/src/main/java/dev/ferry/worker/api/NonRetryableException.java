package dev.ferry.worker.api;

/** Thrown by a handler when no retry can succeed (bad input, a 4xx answer …). */
public class NonRetryableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NonRetryableException(String message) {
    super(message);
  }

  public NonRetryableException(String message, Throwable cause) {
    super(message, cause);
  }
}
