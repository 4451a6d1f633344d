package dev.ferry.worker.egress;

import java.net.UnknownHostException;

/**
 * A destination refused by the {@link EgressPolicy}. An {@link UnknownHostException} because it is
 * thrown where a name is resolved (before any connection attempt), and HTTP clients pass that type
 * through unwrapped and never retry it. The message starts with {@code blocked by}.
 */
public final class BlockedDestinationException extends UnknownHostException {
  private static final long serialVersionUID = 1L;

  public BlockedDestinationException(String reason) {
    super(reason);
  }
}
