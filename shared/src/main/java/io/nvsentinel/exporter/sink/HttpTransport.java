package io.nvsentinel.exporter.sink;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.JdkClientHttpRequestFactory;

/** A pooled JDK HTTP client for one endpoint, with its TLS settings and a request timeout. */
final class HttpTransport {

  private HttpTransport() {}

  /** A client for {@code url}; {@code what} names the settings it came from, for messages. */
  static HttpClient client(
      String what, String url, Duration timeout, boolean insecureSkipVerify, Path caFile) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .sslContext(TlsContexts.forEndpoint(what, url, insecureSkipVerify, caFile))
        .build();
  }

  /** The same client behind Spring's request factory, for Spring Security's token client. */
  static ClientHttpRequestFactory requestFactory(
      String what, String url, Duration timeout, boolean insecureSkipVerify, Path caFile) {
    JdkClientHttpRequestFactory factory =
        new JdkClientHttpRequestFactory(client(what, url, timeout, insecureSkipVerify, caFile));
    factory.setReadTimeout(timeout);
    return factory;
  }
}
