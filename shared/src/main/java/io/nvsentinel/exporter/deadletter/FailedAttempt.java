package io.nvsentinel.exporter.deadletter;

/**
 * The last failed attempt of an event set aside, as a dead letter records it.
 *
 * @param reason what went wrong, for the operator
 * @param errorType the {@code error_type} label of the failure
 * @param status the sink's HTTP status, or 0 without an answer
 */
public record FailedAttempt(String reason, String errorType, int status) {}
