package dev.ferry.worker.egress;

import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.text.SafeText;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the {@code http} handler may connect: {@code http.allow}, {@code http.deny} and the
 * built-in deny list of link-local and cloud metadata addresses ({@link #DEFAULT_DENY}).
 *
 * <p>The rule, checked for every address a connection would use (the host name from the URL, each
 * resolved address, the port):
 *
 * <ol>
 *   <li>an {@code http.deny} entry matches → blocked by {@code http.deny} (deny wins over allow);
 *   <li>{@code http.allow} is set and no entry matches → blocked by {@code http.allow};
 *   <li>the address is in the built-in deny list and no {@code http.allow} <em>IP or CIDR</em>
 *       entry covers it → blocked by {@code http.deny} (a host-name entry does not lift the
 *       built-in list: names can be re-pointed, addresses cannot);
 *   <li>otherwise allowed.
 * </ol>
 *
 * Pure and immutable: thread-safe, never resolves names itself.
 */
public final class EgressPolicy {
  /** A refused host is named in errors with at most this many characters: 200. */
  static final int HOST_MAX_CHARS = 200;

  /** Link-local (IPv4 and IPv6) and cloud metadata addresses, always denied unless allowed. */
  public static final List<EgressRule> DEFAULT_DENY =
      List.of(
          EgressRule.parse("169.254.0.0/16"),
          EgressRule.parse("fe80::/10"),
          EgressRule.parse("fd00:ec2::254"));

  private final List<EgressRule> allow;
  private final List<EgressRule> deny;

  public EgressPolicy(List<EgressRule> allow, List<EgressRule> deny) {
    this.allow = List.copyOf(allow);
    this.deny = List.copyOf(deny);
  }

  /** No allow list, no extra deny entries: only the built-in deny list applies. */
  public static EgressPolicy defaults() {
    return new EgressPolicy(List.of(), List.of());
  }

  /**
   * Reads {@code http.allow} and {@code http.deny}.
   *
   * @throws ConfigException naming the setting and the bad entry
   */
  public static EgressPolicy from(FerryConfig config) {
    return new EgressPolicy(
        parseList(Setting.HTTP_ALLOW, config.get(Setting.HTTP_ALLOW)),
        parseList(Setting.HTTP_DENY, config.get(Setting.HTTP_DENY)));
  }

  /** Parses a comma-separated list of entries; blank means none. */
  public static List<EgressRule> parseList(Setting setting, String value) {
    List<EgressRule> rules = new ArrayList<>();
    if (value == null || value.isBlank()) {
      return rules;
    }
    for (String entry : value.split(",", -1)) {
      try {
        rules.add(EgressRule.parse(entry));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            setting.spellings() + ": bad entry: " + e.getMessage() + " in '" + value + "'");
      }
    }
    return rules;
  }

  /** The verdict on one destination. */
  public sealed interface Verdict {
    record Allowed() implements Verdict {}

    /**
     * @param reason starts with {@code blocked by http.deny} or {@code blocked by http.allow}
     */
    record Blocked(String reason) implements Verdict {}
  }

  private static final Verdict ALLOWED = new Verdict.Allowed();

  /**
   * The verdict on connecting to {@code address}:{@code port} for {@code host}.
   *
   * @param host the host name from the URL (or the IP literal), for host-name entries
   * @param address the address that would be connected to
   */
  public Verdict check(String host, InetAddress address, int port) {
    String where = describe(host, address, port);
    for (EgressRule r : deny) {
      if (r.matches(host, address, port)) {
        return new Verdict.Blocked("blocked by http.deny: " + where + " matches '" + r + "'");
      }
    }
    if (!allow.isEmpty() && allow.stream().noneMatch(r -> r.matches(host, address, port))) {
      return new Verdict.Blocked("blocked by http.allow: " + where + " matches no entry");
    }
    for (EgressRule r : DEFAULT_DENY) {
      if (r.matches(host, address, port)
          && allow.stream().noneMatch(a -> a.byAddress() && a.matches(host, address, port))) {
        return new Verdict.Blocked(
            "blocked by http.deny: "
                + where
                + " is link-local or a cloud metadata address (built-in '"
                + r
                + "'; list it in http.allow as an IP or CIDR to call it)");
      }
    }
    return ALLOWED;
  }

  private static String describe(String host, InetAddress address, int port) {
    String ip = address == null ? "?" : address.getHostAddress();
    String h = host == null ? ip : host;
    String shown = h.equalsIgnoreCase(ip) ? ip : h + " (" + ip + ")";
    return SafeText.echo(shown, HOST_MAX_CHARS) + " port " + port;
  }
}
