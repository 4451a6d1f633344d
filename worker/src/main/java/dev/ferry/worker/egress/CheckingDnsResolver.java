package dev.ferry.worker.egress;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

/**
 * Resolves a host once and hands the HTTP client only the addresses the {@link EgressPolicy}
 * allows, so the address checked is the address connected to (no DNS rebinding between check and
 * connect). Every new connection goes through here, redirect hops included; IP literals too
 * (resolving a literal does no lookup). Blocked addresses are dropped from the answer; when none is
 * left, {@link BlockedDestinationException} says why the first one was blocked. Thread-safe.
 */
public final class CheckingDnsResolver implements DnsResolver {
  private final EgressPolicy policy;
  private final DnsResolver delegate;

  public CheckingDnsResolver(EgressPolicy policy) {
    this(policy, SystemDefaultDnsResolver.INSTANCE);
  }

  public CheckingDnsResolver(EgressPolicy policy, DnsResolver delegate) {
    this.policy = policy;
    this.delegate = delegate;
  }

  @Override
  public List<InetSocketAddress> resolve(String host, int port) throws UnknownHostException {
    List<InetSocketAddress> out = new ArrayList<>();
    for (InetAddress a : checked(host, port)) {
      out.add(new InetSocketAddress(a, port));
    }
    return out;
  }

  /**
   * Without a port only port-independent entries can be judged; the client calls {@link
   * #resolve(String, int)} when it connects, so this is checked as port 0 (port-specific entries do
   * not match it).
   */
  @Override
  public InetAddress[] resolve(String host) throws UnknownHostException {
    return checked(host, 0).toArray(InetAddress[]::new);
  }

  @Override
  public String resolveCanonicalHostname(String host) throws UnknownHostException {
    return delegate.resolveCanonicalHostname(host);
  }

  /** Resolves once and keeps the allowed addresses; throws if there are none. */
  public List<InetAddress> checked(String host, int port) throws UnknownHostException {
    String name =
        host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    InetAddress[] addresses = delegate.resolve(name);
    if (addresses == null || addresses.length == 0) {
      throw new UnknownHostException(host);
    }
    List<InetAddress> allowed = new ArrayList<>();
    String firstReason = null;
    for (InetAddress a : addresses) {
      switch (policy.check(name, a, port)) {
        case EgressPolicy.Verdict.Allowed ok -> allowed.add(a);
        case EgressPolicy.Verdict.Blocked b -> {
          if (firstReason == null) {
            firstReason = b.reason();
          }
        }
      }
    }
    if (allowed.isEmpty()) {
      throw new BlockedDestinationException(firstReason);
    }
    return allowed;
  }
}
