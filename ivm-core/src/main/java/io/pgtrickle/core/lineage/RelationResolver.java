package io.pgtrickle.core.lineage;

import java.util.List;
import java.util.Optional;

/** Finds the relation a FROM item names ({@code t} or {@code s.t}), as the search path would. */
interface RelationResolver {
    Optional<Relation> resolve(List<String> names);
}
