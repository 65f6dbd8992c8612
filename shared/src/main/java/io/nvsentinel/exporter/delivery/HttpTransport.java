package io.nvsentinel.exporter.delivery;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.JdkClientHttpRequestFactory;

/** A pooled JDK HTTP client for one endpoint, with its TLS settings and a request timeout. */
final class HttpTransport {

  private HttpTransport() {}

  static ClientHttpRequestFactory create(
      String what, String url, Duration timeout, boolean insecureSkipVerify, Path caFile) {
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .sslContext(TlsContexts.forEndpoint(what, url, insecureSkipVerify, caFile))
            .build();
    JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(client);
    factory.setReadTimeout(timeout);
    return factory;
  }
}
