package io.pgtrickle.relay.config;

import java.util.ArrayList;
import java.util.List;

/** Collects the problems of one load, so that all of them are reported at once. */
final class Problems {
    private final List<ConfigProblem> list = new ArrayList<>();

    void add(String path, String location, String message) {
        list.add(new ConfigProblem(path, location, message));
    }

    boolean isEmpty() {
        return list.isEmpty();
    }

    int size() {
        return list.size();
    }

    void throwIfAny(String sourceName) {
        if (!list.isEmpty()) {
            throw new ConfigException(sourceName, list);
        }
    }
}
