package io.nvsentinel.exporter.devstack;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bson.BsonArray;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.types.ObjectId;

/**
 * A realistic, repeatable history of health events: GPU faults from a few monitors across a fleet
 * of nodes, spread over the days before a point in time. The same seed gives the same events, ids
 * included.
 */
public final class DemoHistory {

  private static final String[][] CHECKS = {
    {"gpu-health-monitor", "GpuXidError", "XID 79: GPU has fallen off the bus", "RESTART_VM", "79"},
    {
      "gpu-health-monitor",
      "GpuThermalWatch",
      "GPU temperature above slowdown threshold",
      "NONE",
      "140"
    },
    {"gpu-health-monitor", "GpuMemWatch", "Uncorrectable ECC error in HBM", "REPLACE_VM", "48"},
    {
      "syslog-health-monitor",
      "SysLogsGPUFallenOff",
      "NVRM: GPU at PCI has fallen off the bus",
      "COMPONENT_RESET",
      "79"
    },
    {
      "syslog-health-monitor",
      "SysLogsNVLinkError",
      "NVLink CRC errors above threshold",
      "RUN_FIELDDIAG",
      "74"
    },
    {"csp-health-monitor", "CSPMaintenance", "Scheduled maintenance event", "CONTACT_SUPPORT", "0"},
  };

  private final Random random;

  public DemoHistory(long seed) {
    this.random = new Random(seed);
  }

  /** {@code count} events stored over the {@code span} before {@code until}, oldest first. */
  public List<BsonDocument> events(int count, Instant until, Duration span) {
    List<Instant> times = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      times.add(until.minusMillis((long) (random.nextDouble() * span.toMillis())));
    }
    times.sort(null);
    List<BsonDocument> docs = new ArrayList<>(count);
    for (Instant createdAt : times) {
      docs.add(event(createdAt));
    }
    return docs;
  }

  /** One event stored at {@code createdAt}. */
  public BsonDocument event(Instant createdAt) {
    String[] check = CHECKS[random.nextInt(CHECKS.length)];
    int node = random.nextInt(64);
    String gpu =
        String.format(
            "GPU-%08x-%04x-%04x-%04x-%012x",
            random.nextInt(),
            random.nextInt(0x10000),
            random.nextInt(0x10000),
            random.nextInt(0x10000),
            random.nextLong() & 0xffffffffffffL);
    BsonArray entities = new BsonArray();
    entities.add(
        new BsonDocument("entityType", new BsonString("GPU_UUID"))
            .append("entityValue", new BsonString(gpu)));
    entities.add(
        new BsonDocument("entityType", new BsonString("PCI"))
            .append(
                "entityValue",
                new BsonString(String.format("0000:%02x:00.0", random.nextInt(256)))));
    boolean healthy = random.nextInt(5) == 0;
    BsonDocument event =
        new BsonDocument("version", new BsonInt32(1))
            .append("agent", new BsonString(check[0]))
            .append("componentClass", new BsonString("GPU"))
            .append("checkName", new BsonString(check[1]))
            .append("isFatal", BsonBoolean.valueOf(!healthy && random.nextInt(3) == 0))
            .append("isHealthy", BsonBoolean.valueOf(healthy))
            .append("message", new BsonString(check[2]))
            .append("recommendedAction", new BsonString(healthy ? "NONE" : check[3]))
            .append("errorCode", new BsonArray(List.of(new BsonString(check[4]))))
            .append("entitiesImpacted", entities)
            .append("nodeName", new BsonString(String.format("gpu-node-%03d", node)))
            // as the platform connector stores it: an unset strategy becomes EXECUTE_REMEDIATION
            .append(
                "processingStrategy",
                new BsonString(node % 10 == 0 ? "STORE_ONLY" : "EXECUTE_REMEDIATION"))
            .append(
                "generatedTimestamp",
                new BsonDateTime(createdAt.minusMillis(random.nextInt(500)).toEpochMilli()));
    byte[] id = new byte[12];
    random.nextBytes(id);
    return new BsonDocument("_id", new BsonObjectId(new ObjectId(id)))
        .append("createdAt", new BsonDateTime(createdAt.toEpochMilli()))
        .append("healthevent", event)
        .append(
            "healtheventstatus",
            new BsonDocument(
                "nodequarantined", new BsonString(healthy ? "UnQuarantined" : "Quarantined")));
  }
}
