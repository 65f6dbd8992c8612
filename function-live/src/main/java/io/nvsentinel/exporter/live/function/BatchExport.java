package io.nvsentinel.exporter.live.function;

import io.nvsentinel.exporter.store.ChangeEvent;
import java.util.List;
import java.util.function.Function;

/**
 * The export of several changes at once, for batched delivery ({@code exporter.sink.batch}): each
 * change converted as {@code toCloudEvent} converts it, the events among them delivered in one
 * request. Returns each change's result, in order.
 */
public interface BatchExport extends Function<List<ChangeEvent>, List<ExportResult>> {}
