package dev.ferry.worker.handlers;

import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.worker.egress.EgressPolicy;

/**
 * How the built-in {@code http} handler behaves: where it may connect, the largest response body it
 * reads and whether it follows redirects. Immutable.
 *
 * @param maxResponseBytes {@code http.max.response.bytes}
 * @param followRedirects {@code http.follow.redirects} (at most {@link #MAX_REDIRECTS} hops, each
 *     checked against the policy)
 */
public record HttpSettings(EgressPolicy policy, int maxResponseBytes, boolean followRedirects) {
  /** Most redirect hops one call follows. */
  public static final int MAX_REDIRECTS = 5;

  public HttpSettings {
    if (policy == null) {
      throw new IllegalArgumentException("policy must not be null");
    }
    if (maxResponseBytes < 0) {
      throw new IllegalArgumentException(
          "maxResponseBytes must be >= 0 but was " + maxResponseBytes);
    }
  }

  /** The documented defaults: built-in deny list only, 1 MiB, redirects followed. */
  public static HttpSettings defaults() {
    return new HttpSettings(EgressPolicy.defaults(), 1 << 20, true);
  }

  /**
   * Reads {@code http.allow}, {@code http.deny}, {@code http.max.response.bytes} and {@code
   * http.follow.redirects}.
   *
   * @throws ConfigException naming the setting and the bad value
   */
  public static HttpSettings from(FerryConfig config) {
    return new HttpSettings(
        EgressPolicy.from(config),
        config.getInt(Setting.HTTP_MAX_RESPONSE_BYTES),
        config.getBoolean(Setting.HTTP_FOLLOW_REDIRECTS));
  }
}
