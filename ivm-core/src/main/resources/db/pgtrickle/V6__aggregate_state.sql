-- Per-group state of stream tables maintained with algebraic aggregates (counts, sums, extrema).
-- One table per stream table and definition: pgtrickle_state.agg_<storage relid>_<signature>.
CREATE SCHEMA IF NOT EXISTS pgtrickle_state;
