package io.nvsentinel.exporter.checkpoint;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.bson.types.ObjectId;

/** Gap windows in {@code resumeToken.database}/{@code resumeToken.gapCollection}. */
public final class GapWindowStore {

  private final MongoCollection<Document> collection;

  public GapWindowStore(MongoClient client, ExporterProperties.ResumeToken settings) {
    this.collection =
        client.getDatabase(settings.database()).getCollection(settings.gapCollection());
  }

  public GapWindow record(String client, Instant start, Instant end, String reason, Instant now) {
    ObjectId id = new ObjectId();
    collection.insertOne(
        new Document("_id", id)
            .append("client", client)
            .append("start", Date.from(start))
            .append("end", Date.from(end))
            .append("reason", reason)
            .append("recordedAt", Date.from(now))
            .append("status", GapWindow.PENDING));
    return new GapWindow(id.toHexString(), client, start, end, reason, now, GapWindow.PENDING);
  }

  /** Every window, oldest first. */
  public List<GapWindow> all() {
    List<GapWindow> windows = new ArrayList<>();
    for (Document d : collection.find().sort(Sorts.ascending("start"))) {
      windows.add(
          new GapWindow(
              d.getObjectId("_id").toHexString(),
              d.getString("client"),
              d.getDate("start").toInstant(),
              d.getDate("end").toInstant(),
              d.getString("reason"),
              d.getDate("recordedAt").toInstant(),
              d.getString("status")));
    }
    return windows;
  }

  public List<GapWindow> pending() {
    return all().stream().filter(w -> GapWindow.PENDING.equals(w.status())).toList();
  }

  public void markDone(String id, Instant now) {
    collection.updateOne(
        Filters.eq("_id", new ObjectId(id)),
        Updates.combine(
            Updates.set("status", GapWindow.DONE), Updates.set("doneAt", Date.from(now))));
  }
}
