package dev.ferry.worker.handlers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A minimal HTTP/1.1 server on 127.0.0.1 that counts every accepted TCP connection, so a test can
 * prove that a call made none. One request per connection; the answer for a request path comes from
 * {@code responder} as raw bytes (status line, headers and body).
 */
final class CountingHttpServer implements AutoCloseable {
  final AtomicInteger connections = new AtomicInteger();
  private final ServerSocket socket;
  private final Thread acceptor;

  CountingHttpServer(Function<String, byte[]> responder) throws IOException {
    socket = new ServerSocket();
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    acceptor =
        Thread.ofPlatform()
            .name("counting-http-" + socket.getLocalPort())
            .daemon()
            .start(
                () -> {
                  while (!socket.isClosed()) {
                    try {
                      Socket s = socket.accept();
                      connections.incrementAndGet();
                      Thread.ofVirtual().start(() -> serve(s, responder));
                    } catch (IOException e) {
                      return; // closed
                    }
                  }
                });
  }

  int port() {
    return socket.getLocalPort();
  }

  String base() {
    return "http://127.0.0.1:" + port();
  }

  private static void serve(Socket s, Function<String, byte[]> responder) {
    try (s;
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream()) {
      String head = readHead(in);
      String path = head.isEmpty() ? "/" : head.split(" ")[1];
      out.write(responder.apply(path));
      out.flush();
    } catch (IOException | RuntimeException e) {
      // the client went away (e.g. it dropped an oversized body): nothing to do
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      b.write(c);
      String s = b.toString(StandardCharsets.ISO_8859_1);
      if (s.endsWith("\r\n\r\n")) {
        return s;
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  /** A complete response with a Content-Length. */
  static byte[] response(int status, String contentType, byte[] body, String... headers) {
    StringBuilder h = new StringBuilder("HTTP/1.1 " + status + " X\r\nConnection: close\r\n");
    if (contentType != null) {
      h.append("Content-Type: ").append(contentType).append("\r\n");
    }
    for (String header : headers) {
      h.append(header).append("\r\n");
    }
    h.append("Content-Length: ").append(body.length).append("\r\n\r\n");
    byte[] head = h.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  /** A response whose body ends when the connection closes (no length known in advance). */
  static byte[] unframed(int status, byte[] body) {
    byte[] head =
        ("HTTP/1.1 " + status + " X\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  @Override
  public void close() throws Exception {
    socket.close();
    acceptor.join();
  }
}
