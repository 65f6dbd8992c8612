package io.nvsentinel.exporter.live.function;

import java.util.function.Function;
import org.bson.BsonDocument;
import org.bson.json.JsonParseException;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * The export function behind {@code POST /export}, for platform triggers. Off unless {@code
 * exporter.live.httpTrigger=true}: whoever can reach it can make the exporter send events under its
 * identity, so it belongs behind the cluster's network policy.
 *
 * <p>The body is MongoDB Extended JSON: either a change event (its {@code fullDocument} is
 * exported) or the stored document itself. The answer is the {@link ExportResult}: 200 when
 * delivered, 422 when the document holds no usable health event, 502 when the sink refused it or
 * retries ran out (it is then a dead letter).
 */
@RestController
@ConditionalOnProperty(name = "exporter.live.http-trigger", havingValue = "true")
class ExportHttpTrigger {

  private final Function<ChangeEvent, ExportResult> export;

  ExportHttpTrigger(Function<ChangeEvent, ExportResult> exportFunction) {
    this.export = exportFunction;
  }

  @PostMapping(path = "/export", produces = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<?> export(@RequestBody String body) {
    BsonDocument document;
    try {
      document = BsonDocument.parse(body);
    } catch (JsonParseException | org.bson.BsonInvalidOperationException e) {
      return ResponseEntity.badRequest()
          .body(new Problem("the body is not a MongoDB Extended JSON document: " + e.getMessage()));
    }
    ChangeEvent change =
        document.isDocument("fullDocument")
            ? new ChangeEvent(
                document.getDocument("fullDocument"),
                document.getString("operationType", new org.bson.BsonString("insert")).getValue(),
                null,
                null)
            : ChangeEvent.of(document);
    ExportResult result = export.apply(change);
    HttpStatus status =
        switch (result.outcome()) {
          case ExportResult.DELIVERED -> HttpStatus.OK;
          case ExportResult.UNDECODABLE -> HttpStatus.UNPROCESSABLE_ENTITY;
          default -> HttpStatus.BAD_GATEWAY;
        };
    return ResponseEntity.status(status).body(result);
  }

  record Problem(String error) {}
}
