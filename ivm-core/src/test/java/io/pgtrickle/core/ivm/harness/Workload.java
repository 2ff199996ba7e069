package io.pgtrickle.core.ivm.harness;

import java.util.List;
import java.util.Random;

/**
 * Source tables, their seed data, the random changes made to them and the query shapes over them.
 * {@link #randomBatch} may be called from several writer threads at once, each with its own
 * {@link Random}; any state it keeps (a next key, say) must be safe for that.
 */
public interface Workload {
    String name();

    /** The CREATE TABLE statements, run once per database. */
    List<String> schema();

    /** The tables to empty before a run seeds them again. */
    List<String> tables();

    /** INSERTs of the initial rows; resets whatever state {@link #randomBatch} keeps. */
    List<String> seed(Random random);

    Batch randomBatch(Random random);

    /** In dependency order: a shape reading another shape's stream table comes after it. */
    List<Shape> shapes();
}
