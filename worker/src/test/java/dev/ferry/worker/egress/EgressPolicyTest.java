package dev.ferry.worker.egress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Parsing of http.allow / http.deny entries and the allow/deny rule, without any lookup. */
class EgressPolicyTest {

  private static InetAddress ip(String literal) throws UnknownHostException {
    return InetAddress.getByName(literal); // a literal: no lookup
  }

  private static EgressPolicy policy(String allow, String deny) {
    return EgressPolicy.from(
        FerryConfig.defaults().with(Setting.HTTP_ALLOW, allow).with(Setting.HTTP_DENY, deny));
  }

  private static String verdict(EgressPolicy p, String host, String address, int port)
      throws UnknownHostException {
    return switch (p.check(host, ip(address), port)) {
      case EgressPolicy.Verdict.Allowed a -> "allowed";
      case EgressPolicy.Verdict.Blocked b -> b.reason();
    };
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "10.0.0.0/8        | 10.200.3.4      | true",
        "10.0.0.0/8        | 11.0.0.1        | false",
        "192.168.1.0/25    | 192.168.1.127   | true",
        "192.168.1.0/25    | 192.168.1.128   | false",
        "0.0.0.0/0         | 8.8.8.8         | true",
        "0.0.0.0/0         | ::1             | false",
        "10.1.2.3          | 10.1.2.3        | true",
        "10.1.2.3          | 10.1.2.4        | false",
        "fd00::/8          | fd12:3456::1    | true",
        "fd00::/8          | fe80::1         | false",
        "fe80::/10         | febf::1         | true",
        "fe80::/10         | fec0::1         | false",
        "::1               | ::1             | true",
        "[2001:db8::1]     | 2001:db8::1     | true",
        "2001:db8::/32     | 2001:db9::1     | false",
        "::/0              | 10.0.0.1        | false",
      })
  void addressEntries_matchByCidr(String entry, String address, boolean matches) throws Exception {
    assertThat(EgressRule.parse(entry).matches("whatever", ip(address), 443)).isEqualTo(matches);
    assertThat(EgressRule.parse(entry).byAddress()).isTrue();
  }

  @Test
  void ipv4MappedIpv6_isMatchedAsIpv4() throws Exception {
    assertThat(EgressRule.parse("169.254.0.0/16").matches(null, ip("::ffff:169.254.169.254"), 80))
        .isTrue();
  }

  @Test
  void hostEntries_matchTheUrlHostAndPort() throws Exception {
    EgressRule any = EgressRule.parse("API.example.com");
    EgressRule one = EgressRule.parse("api.example.com:8443");
    InetAddress a = ip("93.184.216.34");
    assertThat(any.matches("api.example.com", a, 80)).isTrue();
    assertThat(any.matches("API.EXAMPLE.COM", a, 443)).isTrue();
    assertThat(any.matches("other.example.com", a, 80)).isFalse();
    assertThat(any.matches("sub.api.example.com", a, 80)).isFalse();
    assertThat(one.matches("api.example.com", a, 8443)).isTrue();
    assertThat(one.matches("api.example.com", a, 443)).isFalse();
    assertThat(any.byAddress()).isFalse();
  }

  @Test
  void ipWithPort_matchesOnlyThatPort() throws Exception {
    assertThat(EgressRule.parse("127.0.0.1:8080").matches("x", ip("127.0.0.1"), 8080)).isTrue();
    assertThat(EgressRule.parse("127.0.0.1:8080").matches("x", ip("127.0.0.1"), 8081)).isFalse();
    assertThat(EgressRule.parse("[::1]:8080").matches("x", ip("::1"), 8080)).isTrue();
    assertThat(EgressRule.parse("[::1]:8080").matches("x", ip("::1"), 80)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.0/33",
        "10.0.0.0/-1",
        "10.0.0.0/x",
        "300.1.1.1",
        "1.2.3.4.5",
        "fe80::/129",
        "[::1",
        "[::1]x",
        "[::1]:99999",
        "host:0",
        "host:abc",
        "host:65536",
        "bad_host!",
        "-leading.example.com",
        "a b",
        "gg::1",
        "http://x",
        " "
      })
  void badEntries_failNamingTheSetting(String entry) {
    assertThatThrownBy(() -> policy("", "8.8.8.8," + entry))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("http.deny / FERRY_HTTP_DENY / --http-deny")
        .hasMessageContaining("bad entry");
    assertThatThrownBy(() -> policy(entry + ",10.0.0.1", ""))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("http.allow");
  }

  @Test
  void listsTolerateSpaces_andBlankIsEmpty() throws Exception {
    EgressPolicy p = policy("", " 10.0.0.0/8 , internal.example.com ");
    assertThat(verdict(p, "a", "10.1.1.1", 80)).startsWith("blocked by http.deny");
    assertThat(verdict(p, "internal.example.com", "8.8.8.8", 80))
        .startsWith("blocked by http.deny");
    assertThat(verdict(policy(" ", ""), "a", "8.8.8.8", 80)).isEqualTo("allowed");
  }

  @Test
  void defaults_denyLinkLocalAndMetadata_only() throws Exception {
    EgressPolicy p = EgressPolicy.defaults();
    assertThat(verdict(p, "169.254.169.254", "169.254.169.254", 80))
        .startsWith("blocked by http.deny")
        .contains("169.254.0.0/16");
    assertThat(verdict(p, "metadata.example", "169.254.1.1", 80))
        .startsWith("blocked by http.deny");
    assertThat(verdict(p, "x", "fe80::1", 80)).startsWith("blocked by http.deny");
    assertThat(verdict(p, "x", "fd00:ec2::254", 80)).startsWith("blocked by http.deny");
    assertThat(verdict(p, "x", "fd00:ec2::253", 80)).isEqualTo("allowed");
    assertThat(verdict(p, "x", "127.0.0.1", 80)).isEqualTo("allowed");
    assertThat(verdict(p, "x", "10.0.0.1", 80)).isEqualTo("allowed");
    assertThat(verdict(p, "x", "169.255.0.1", 80)).isEqualTo("allowed");
  }

  @Test
  void defaultDeny_isLiftedOnlyByAnAllowAddressEntry() throws Exception {
    assertThat(verdict(policy("169.254.169.254", ""), "169.254.169.254", "169.254.169.254", 80))
        .isEqualTo("allowed");
    assertThat(verdict(policy("169.254.0.0/16", ""), "x", "169.254.3.3", 80)).isEqualTo("allowed");
    // A host name can be re-pointed: naming it does not open the metadata address.
    assertThat(verdict(policy("metadata.internal", ""), "metadata.internal", "169.254.169.254", 80))
        .startsWith("blocked by http.deny");
  }

  @Test
  void allowList_admitsOnlyMatches() throws Exception {
    EgressPolicy p = policy("api.example.com, 10.0.0.0/8, 127.0.0.1:8080", "");
    assertThat(verdict(p, "api.example.com", "93.184.216.34", 443)).isEqualTo("allowed");
    assertThat(verdict(p, "other.example.com", "10.2.3.4", 443)).isEqualTo("allowed");
    assertThat(verdict(p, "localhost", "127.0.0.1", 8080)).isEqualTo("allowed");
    assertThat(verdict(p, "localhost", "127.0.0.1", 8081)).startsWith("blocked by http.allow");
    assertThat(verdict(p, "evil.example.com", "93.184.216.34", 443))
        .startsWith("blocked by http.allow");
  }

  @Test
  void deny_winsOverAllow() throws Exception {
    EgressPolicy p = policy("10.0.0.0/8", "10.0.0.5");
    assertThat(verdict(p, "x", "10.0.0.4", 80)).isEqualTo("allowed");
    assertThat(verdict(p, "x", "10.0.0.5", 80)).startsWith("blocked by http.deny");
  }

  @Test
  void reasons_escapeControlCharacters() throws Exception {
    String reason = verdict(policy("", "10.0.0.0/8"), "evil\r\nX-Injected: 1", "10.0.0.1", 80);
    assertThat(reason).doesNotContain("\r").doesNotContain("\n").contains("\\r\\n");
  }
}
