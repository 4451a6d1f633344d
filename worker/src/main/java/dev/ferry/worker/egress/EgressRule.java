package dev.ferry.worker.egress;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One entry of {@code http.allow} / {@code http.deny}: a host name, a host name with a port, an IP
 * address (optionally with a port) or a CIDR block. Host-name entries match the name in the URL
 * (case-insensitive, exact); IP and CIDR entries match the address actually connected to.
 * Immutable.
 */
public sealed interface EgressRule {

  /** Whether this entry matches a connection to {@code address}:{@code port} for {@code host}. */
  boolean matches(String host, InetAddress address, int port);

  /** Whether this entry names addresses (IP or CIDR), as opposed to host names. */
  boolean byAddress();

  /** A host name, any port (port -1) or one port. */
  record Host(String name, int port) implements EgressRule {
    @Override
    public boolean matches(String host, InetAddress address, int p) {
      return host != null && name.equalsIgnoreCase(stripBrackets(host)) && (port < 0 || port == p);
    }

    @Override
    public boolean byAddress() {
      return false;
    }

    @Override
    public String toString() {
      return port < 0 ? name : name + ":" + port;
    }
  }

  /** A CIDR block (an IP address is a block of one address), any port (-1) or one port. */
  record Cidr(byte[] network, int prefix, int port, String text) implements EgressRule {
    @Override
    public boolean matches(String host, InetAddress address, int p) {
      if (address == null || (port >= 0 && port != p)) {
        return false;
      }
      byte[] a = address.getAddress();
      if (a.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (a[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return (a[full] & mask) == (network[full] & mask);
    }

    @Override
    public boolean byAddress() {
      return true;
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** Letters, digits, hyphens and dots: what a host name entry may contain. */
  Pattern HOST_NAME =
      Pattern.compile(
          "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\\.?");

  Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  /**
   * Parses one entry: {@code api.example.com}, {@code api.example.com:8443}, {@code 10.0.0.7},
   * {@code 10.0.0.7:8080}, {@code 10.0.0.0/8}, {@code ::1}, {@code [::1]:8080}, {@code fd00::/8}.
   * Never resolves a name.
   *
   * @throws IllegalArgumentException naming the entry and what is wrong with it
   */
  static EgressRule parse(String entry) {
    String e = entry.strip();
    if (e.isEmpty()) {
      throw new IllegalArgumentException("empty entry");
    }
    int slash = e.indexOf('/');
    if (slash >= 0) {
      byte[] net = literal(e.substring(0, slash), e);
      int prefix = number(e.substring(slash + 1), 0, net.length * 8, "prefix length", e);
      return new Cidr(net, prefix, -1, e);
    }
    if (e.startsWith("[")) {
      int close = e.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("'" + e + "' has '[' without ']'");
      }
      byte[] ip = literal(e.substring(1, close), e);
      String tail = e.substring(close + 1);
      if (tail.isEmpty()) {
        return new Cidr(ip, ip.length * 8, -1, e);
      }
      if (!tail.startsWith(":")) {
        throw new IllegalArgumentException("'" + e + "' must be [IPv6] or [IPv6]:port");
      }
      return new Cidr(ip, ip.length * 8, number(tail.substring(1), 1, 65535, "port", e), e);
    }
    int colons = e.length() - e.replace(":", "").length();
    if (colons > 1) {
      byte[] ip = literal(e, e);
      return new Cidr(ip, ip.length * 8, -1, e);
    }
    String host = e;
    int port = -1;
    if (colons == 1) {
      host = e.substring(0, e.indexOf(':'));
      port = number(e.substring(e.indexOf(':') + 1), 1, 65535, "port", e);
    }
    if (IPV4.matcher(host).matches()) {
      byte[] ip = literal(host, e);
      return new Cidr(ip, 32, port, e);
    }
    if (!HOST_NAME.matcher(host).matches() || host.matches("[0-9.]+")) {
      throw new IllegalArgumentException(
          "'" + e + "' is not a host name, host:port, IP address or CIDR");
    }
    return new Host(host.toLowerCase(Locale.ROOT), port);
  }

  private static byte[] literal(String ip, String entry) {
    boolean v4 = IPV4.matcher(ip).matches();
    boolean v6 = ip.contains(":") && ip.matches("[0-9A-Fa-f:.]+");
    if (!v4 && !v6) {
      throw new IllegalArgumentException("'" + entry + "' does not hold an IP address");
    }
    if (v4) {
      for (String part : ip.split("\\.")) {
        if (Integer.parseInt(part) > 255) {
          throw new IllegalArgumentException("'" + entry + "' does not hold an IP address");
        }
      }
    }
    try {
      // A literal: InetAddress parses it without any lookup.
      return InetAddress.getByName(ip).getAddress();
    } catch (UnknownHostException | SecurityException e) {
      throw new IllegalArgumentException("'" + entry + "' does not hold an IP address");
    }
  }

  private static int number(String s, int min, int max, String what, String entry) {
    try {
      int n = new BigInteger(s).intValueExact();
      if (n >= min && n <= max && s.matches("\\d+")) {
        return n;
      }
    } catch (NumberFormatException | ArithmeticException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "'" + entry + "' has a bad " + what + " (must be " + min + ".." + max + ")");
  }

  private static String stripBrackets(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }
}
