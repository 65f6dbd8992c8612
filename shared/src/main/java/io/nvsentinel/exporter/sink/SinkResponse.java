package io.nvsentinel.exporter.sink;

import java.time.Duration;

/**
 * What the sink answered to one POST.
 *
 * @param retryAfter the wait asked for with {@code Retry-After}, or {@code null}
 * @param body the start of the response body, for error messages
 */
public record SinkResponse(int status, Duration retryAfter, String body) {

  public boolean accepted() {
    return status >= 200 && status < 300;
  }
}
