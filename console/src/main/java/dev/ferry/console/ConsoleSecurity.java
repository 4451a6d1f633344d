package dev.ferry.console;

import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The console's guards (DESIGN section 10), run before every request.
 *
 * <ul>
 *   <li>Without a token the console only binds to loopback ({@link #checkBind}) and only answers
 *       requests whose {@code Host} is a loopback name, so a web page cannot reach it through DNS
 *       rebinding.
 *   <li>With a token, {@code /api} takes {@code Authorization: Bearer <token>} or the session
 *       cookie; pages take the session cookie, set by the login form: HttpOnly, SameSite=Strict,
 *       signed with the token (an HMAC), valid {@link #SESSION_SECONDS}.
 *   <li>Every state-changing request is a POST. An API POST needs {@code Content-Type:
 *       application/json} (a cross-site HTML form cannot send it: 415), is refused when its {@code
 *       Origin} or {@code Sec-Fetch-Site} names another site (403), and, when it comes with the
 *       session cookie, needs the session's CSRF token in {@value #CSRF_HEADER} (403).
 *   <li>Read-only mode refuses every action (403).
 * </ul>
 */
final class ConsoleSecurity {
  static final String COOKIE = "ferry_session";
  static final String CSRF_HEADER = "X-Ferry-Csrf";
  static final int SESSION_SECONDS = 12 * 3600;

  /** Why a request is refused: its status and message. */
  static final class Refused extends RuntimeException {
    final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  private final String token;
  private final boolean readonly;
  private final byte[] key;

  /** {@code token} null or empty: no sign-in (loopback only). */
  ConsoleSecurity(String token, boolean readonly) {
    this.token = token == null || token.isEmpty() ? null : token;
    this.readonly = readonly;
    this.key = this.token == null ? null : sha256("ferry-console:" + this.token);
  }

  boolean authOn() {
    return token != null;
  }

  boolean readonly() {
    return readonly;
  }

  /** Refuses a non-loopback address without a token; returns a warning-free normal. */
  static void checkBind(String host, boolean authOn) {
    if (authOn) {
      return;
    }
    boolean loopback;
    try {
      InetAddress[] all = InetAddress.getAllByName(host);
      loopback = all.length > 0;
      for (InetAddress a : all) {
        loopback &= a.isLoopbackAddress();
      }
    } catch (UnknownHostException e) {
      throw new dev.ferry.core.config.ConfigException("console.host: unknown host '" + host + "'");
    }
    if (!loopback) {
      throw new dev.ferry.core.config.ConfigException(
          "the console does not listen on "
              + host
              + " without authentication: set console.auth.token or console.auth.token.file"
              + " (FERRY_CONSOLE_AUTH_TOKEN / --console-auth-token), or bind to 127.0.0.1");
    }
  }

  /** Runs before every request; throws {@link Refused} or redirects to the login page. */
  void before(Context ctx) {
    String path = ctx.path();
    if (!authOn() && !loopbackHost(ctx.host())) {
      throw new Refused(403, "this console answers requests for localhost only");
    }
    boolean post = "POST".equals(ctx.method().name());
    boolean api = path.startsWith("/api/");
    if (post) {
      checkSameOrigin(ctx);
    }
    if (path.startsWith("/static/") || path.startsWith("/webjars/") || path.equals("/login")) {
      return;
    }
    if (post && api) {
      String type = ctx.contentType();
      if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
        throw new Refused(
            415, "actions take Content-Type: application/json (a body of {} at least)");
      }
    }
    if (authOn()) {
      String bearer = bearer(ctx);
      if (api && bearer != null) {
        if (!constantTimeEquals(bearer, token)) {
          throw new Refused(401, "the bearer token is not this console's token");
        }
      } else {
        String session = ctx.cookie(COOKIE);
        if (!validSession(session)) {
          if (api || post) {
            ctx.header("WWW-Authenticate", "Bearer realm=\"ferry\"");
            throw new Refused(401, "sign in: Authorization: Bearer <console.auth.token>");
          }
          String next = ctx.queryString() == null ? path : path + "?" + ctx.queryString();
          ctx.redirect("/login?next=" + java.net.URLEncoder.encode(next, StandardCharsets.UTF_8));
          ctx.skipRemainingHandlers();
          return;
        }
        if (post
            && !path.equals("/logout")
            && !constantTimeEquals(String.valueOf(ctx.header(CSRF_HEADER)), csrf(session))) {
          throw new Refused(403, "missing or wrong " + CSRF_HEADER + " header");
        }
      }
    }
    if (post && readonly && !path.equals("/logout")) {
      throw new Refused(403, "this console is read-only (console.readonly=true)");
    }
  }

  /** A POST whose Origin or Sec-Fetch-Site names another site is refused. */
  private static void checkSameOrigin(Context ctx) {
    String site = ctx.header("Sec-Fetch-Site");
    if (site != null && !site.equals("same-origin") && !site.equals("none")) {
      throw new Refused(403, "cross-site request refused (Sec-Fetch-Site: " + site + ")");
    }
    String origin = ctx.header("Origin");
    if (origin == null) {
      return;
    }
    String host = ctx.host();
    String expectedHost;
    try {
      URI o = URI.create(origin);
      expectedHost = o.getPort() == -1 ? o.getHost() : o.getHost() + ":" + o.getPort();
      if (o.getHost() == null) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException e) {
      throw new Refused(403, "cross-origin request refused (Origin: " + origin + ")");
    }
    if (host == null || !expectedHost.equalsIgnoreCase(host)) {
      throw new Refused(403, "cross-origin request refused (Origin: " + origin + ")");
    }
  }

  /** Checks the login form's token; on success sets the session cookie. */
  boolean login(Context ctx, String given) {
    if (!authOn() || given == null || !constantTimeEquals(given, token)) {
      return false;
    }
    long expires = System.currentTimeMillis() / 1000 + SESSION_SECONDS;
    String value = expires + "." + sign("session:" + expires);
    ctx.cookie(
        new Cookie(
            COOKIE,
            value,
            "/",
            SESSION_SECONDS,
            "https".equals(ctx.scheme()),
            true,
            null,
            SameSite.STRICT));
    return true;
  }

  void logout(Context ctx) {
    ctx.cookie(new Cookie(COOKIE, "", "/", 0, false, true, null, SameSite.STRICT));
  }

  /** The CSRF token of the request's session ("" without sign-in). */
  String csrfFor(Context ctx) {
    String session = ctx.cookie(COOKIE);
    return authOn() && validSession(session) ? csrf(session) : "";
  }

  private String csrf(String session) {
    return sign("csrf:" + session);
  }

  private boolean validSession(String value) {
    if (value == null) {
      return false;
    }
    int dot = value.indexOf('.');
    if (dot <= 0) {
      return false;
    }
    try {
      long expires = Long.parseLong(value.substring(0, dot));
      return expires > System.currentTimeMillis() / 1000
          && constantTimeEquals(value.substring(dot + 1), sign("session:" + expires));
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static String bearer(Context ctx) {
    String h = ctx.header("Authorization");
    return h != null && h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).trim() : null;
  }

  static boolean loopbackHost(String hostHeader) {
    if (hostHeader == null) {
      return false;
    }
    String h = hostHeader.toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      return h.startsWith("[::1]");
    }
    int colon = h.indexOf(':');
    String name = colon < 0 ? h : h.substring(0, colon);
    return name.equals("localhost") || name.startsWith("127.");
  }

  private String sign(String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean constantTimeEquals(String a, String b) {
    return MessageDigest.isEqual(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }
}
