package io.nvsentinel.exporter.store.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoSocketReadException;
import com.mongodb.ServerAddress;
import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The driver's failures stop at the store, as the exporter's own. */
class MongoFailuresTest {

  static MongoCommandException serverError(int code) {
    return new MongoCommandException(
        new BsonDocument("ok", new BsonInt32(0))
            .append("code", new BsonInt32(code))
            .append("errmsg", new BsonString("refused")),
        new ServerAddress());
  }

  @ParameterizedTest
  @ValueSource(ints = {9, 260, 280, 286})
  void aServerErrorThatMakesTheTokenUnusableIsLostHistory(int code) {
    assertThat(MongoFailures.translate(serverError(code)))
        .isInstanceOf(ChangeHistoryLostException.class)
        .hasMessageContaining("server error " + code);
  }

  @Test
  void anyOtherServerErrorOrABrokenConnectionIsAStoreUnavailableForNow() {
    assertThat(MongoFailures.translate(serverError(13)))
        .isInstanceOf(DatastoreUnavailableException.class);
    assertThat(
            MongoFailures.translate(
                new MongoSocketReadException("connection reset", new ServerAddress())))
        .isInstanceOf(DatastoreUnavailableException.class)
        .hasMessageContaining("connection reset")
        .hasCauseInstanceOf(MongoSocketReadException.class);
  }
}
