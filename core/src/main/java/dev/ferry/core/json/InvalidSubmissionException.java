package dev.ferry.core.json;

/** A submission that cannot be accepted; the message names the problem for the submitter. */
public final class InvalidSubmissionException extends Exception {
  private static final long serialVersionUID = 1L;

  public InvalidSubmissionException(String reason) {
    super(reason);
  }
}
