package io.nvsentinel.exporter.live.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The lease that lets several live exporters run as one leader and warm standbys ({@code
 * exporter.live.lease.*}).
 *
 * @param enabled take the lease before reading; off, the exporter reads as the only one
 * @param duration a lease not renewed for this long runs out, and a standby takes it
 * @param renewInterval how often the leader renews; shorter than {@code duration}
 * @param retryInterval how often a standby tries to take the lease
 * @param holder this exporter's name in the lease: the pod name ({@code HOSTNAME}) in Kubernetes,
 *     so a restarted container of the same pod takes its lease back at once
 */
@Validated
@ConfigurationProperties("exporter.live.lease")
public record LeaseProperties(
    @DefaultValue("false") boolean enabled,
    @DurationMin(seconds = 1, message = "must be at least 1s, got ${validatedValue}")
        @DefaultValue("6s")
        Duration duration,
    @DurationMin(millis = 100, message = "must be at least 100ms, got ${validatedValue}")
        @DefaultValue("2s")
        Duration renewInterval,
    @DurationMin(millis = 10, message = "must be at least 10ms, got ${validatedValue}")
        @DefaultValue("200ms")
        Duration retryInterval,
    String holder) {

  public LeaseProperties {
    if (renewInterval != null && duration != null && renewInterval.compareTo(duration) >= 0) {
      throw new IllegalArgumentException(
          "exporter.live.lease.renewInterval ("
              + renewInterval
              + ") must be shorter than exporter.live.lease.duration ("
              + duration
              + "): the lease would run out between two renewals and the leader change with"
              + " every renewal. Keep renewInterval at most a third of duration, e.g. duration 6s"
              + " and renewInterval 2s");
    }
    if (holder == null || holder.isBlank()) {
      holder = defaultHolder();
    }
  }

  private static String defaultHolder() {
    String pod = System.getenv("HOSTNAME");
    if (pod != null && !pod.isBlank()) {
      return pod;
    }
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "localhost";
    }
    return host + "-" + ProcessHandle.current().pid();
  }
}
