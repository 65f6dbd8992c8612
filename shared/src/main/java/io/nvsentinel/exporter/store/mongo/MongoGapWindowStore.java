package io.nvsentinel.exporter.store.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.bson.types.ObjectId;

/** Gap windows in {@code resumeToken.database}/{@code resumeToken.gapCollection}. */
public class MongoGapWindowStore implements GapWindowStore {

  private final MongoCollection<Document> collection;

  public MongoGapWindowStore(MongoClient client, ExporterProperties.ResumeToken settings) {
    this.collection =
        client.getDatabase(settings.database()).getCollection(settings.gapCollection());
  }

  @Override
  public GapWindow record(
      String client, GapWindow.Kind kind, Instant start, Instant end, String reason, Instant now) {
    Document stored =
        collection.findOneAndUpdate(
            and(eq("client", client), eq("kind", kind.label()), eq("start", Date.from(start))),
            Updates.combine(
                Updates.setOnInsert("_id", new ObjectId()),
                Updates.setOnInsert("end", Date.from(end)),
                Updates.setOnInsert("reason", reason),
                Updates.setOnInsert("recordedAt", Date.from(now)),
                Updates.setOnInsert("status", GapWindow.Status.PENDING.label())),
            new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER));
    return window(stored);
  }

  @Override
  public List<GapWindow> all() {
    List<GapWindow> windows = new ArrayList<>();
    for (Document d : collection.find().sort(Sorts.ascending("start"))) {
      windows.add(window(d));
    }
    return windows;
  }

  @Override
  public void markDone(String id, Instant now) {
    collection.updateOne(
        eq("_id", new ObjectId(id)),
        Updates.combine(
            Updates.set("status", GapWindow.Status.DONE.label()),
            Updates.set("doneAt", Date.from(now))));
  }

  private static GapWindow window(Document d) {
    return new GapWindow(
        d.getObjectId("_id").toHexString(),
        d.getString("client"),
        GapWindow.Kind.of(d.getString("kind")),
        d.getDate("start").toInstant(),
        d.getDate("end").toInstant(),
        d.getString("reason"),
        d.getDate("recordedAt").toInstant(),
        GapWindow.Status.of(d.getString("status")));
  }
}
