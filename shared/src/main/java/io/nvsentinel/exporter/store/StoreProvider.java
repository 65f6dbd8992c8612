package io.nvsentinel.exporter.store;

/** The one property that chooses the datastore, and its values. */
public final class StoreProvider {

  /** Which store the health events are in: {@code mongodb} (the default) or {@code postgresql}. */
  public static final String PROPERTY = "exporter.datastore.provider";

  public static final String MONGODB = "mongodb";
  public static final String POSTGRESQL = "postgresql";

  private StoreProvider() {}
}
