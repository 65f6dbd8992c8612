package io.nvsentinel.exporter.cloudevent;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

/**
 * Deterministic CloudEvent ids: a name-based (version 5, SHA-1) UUID of the stored event's
 * identity. The live path, the backfill and every retry give the same stored event the same id, so
 * a sink can recognise duplicates by {@code source}+{@code id}, as the CloudEvents spec intends.
 */
public final class EventIds {

  /** Namespace of all exporter ids. Never change it: every id would change with it. */
  static final UUID NAMESPACE = UUID.fromString("6a1d4a4e-92e5-5c4a-9b8e-4f3c2b1d0e7a");

  // Canonical Extended JSON keeps the BSON type, so the string "1" and the number 1 differ.
  private static final JsonWriterSettings CANONICAL =
      JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();

  private EventIds() {}

  /** SHA-1 with the namespace already fed in, cloned for each id. */
  private static final MessageDigest SEEDED = seeded(NAMESPACE);

  /** The id of the document with {@code _id} {@code documentId} in {@code database.collection}. */
  public static String of(String database, String collection, BsonValue documentId) {
    String identity = database + "/" + collection + "/" + canonicalJson(documentId);
    return nameUuid(cloned(SEEDED), identity).toString();
  }

  /**
   * {@code {"_id": <documentId>}} in canonical Extended JSON. The two kinds of {@code _id} the
   * stores hold — an ObjectId (MongoDB) and a UUID string (PostgreSQL) — are written directly, to
   * the character what the writer writes; anything else goes through the writer.
   */
  static String canonicalJson(BsonValue documentId) {
    if (documentId != null && documentId.isObjectId()) {
      return "{\"_id\": {\"$oid\": \"" + documentId.asObjectId().getValue().toHexString() + "\"}}";
    }
    if (documentId != null && documentId.isString() && plain(documentId.asString().getValue())) {
      return "{\"_id\": \"" + documentId.asString().getValue() + "\"}";
    }
    return new BsonDocument("_id", documentId).toJson(CANONICAL);
  }

  /** Letters, digits, {@code -_.:} only: nothing the JSON writer escapes. */
  private static boolean plain(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!(c >= 'a' && c <= 'z'
          || c >= 'A' && c <= 'Z'
          || c >= '0' && c <= '9'
          || c == '-'
          || c == '_'
          || c == '.'
          || c == ':')) {
        return false;
      }
    }
    return true;
  }

  static UUID nameUuid(UUID namespace, String name) {
    return nameUuid(seeded(namespace), name);
  }

  private static MessageDigest seeded(UUID namespace) {
    MessageDigest sha1;
    try {
      sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-1", e);
    }
    ByteBuffer namespaceBytes = ByteBuffer.allocate(16);
    namespaceBytes.putLong(namespace.getMostSignificantBits());
    namespaceBytes.putLong(namespace.getLeastSignificantBits());
    sha1.update(namespaceBytes.array());
    return sha1;
  }

  private static MessageDigest cloned(MessageDigest digest) {
    try {
      return (MessageDigest) digest.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("the JDK's SHA-1 can be cloned", e);
    }
  }

  private static UUID nameUuid(MessageDigest seeded, String name) {
    byte[] hash = seeded.digest(name.getBytes(StandardCharsets.UTF_8));
    hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
    hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
    ByteBuffer bits = ByteBuffer.wrap(hash, 0, 16);
    return new UUID(bits.getLong(), bits.getLong());
  }
}
