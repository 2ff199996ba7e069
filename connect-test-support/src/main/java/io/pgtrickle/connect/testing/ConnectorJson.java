package io.pgtrickle.connect.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * A connector's JSON as the Connect REST API takes it ({@code {"name": ..., "config": {...}}}, as in
 * config-examples/connect), with {@code ${NAME}} in values replaced textually, so that tests register
 * the very file users POST.
 *
 * @param name the connector's name
 * @param config its configuration, a fresh mutable map the caller may change
 */
public record ConnectorJson(String name, Map<String, String> config) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code file}, replacing {@code ${key}} with each of {@code variables}' values. */
    public static ConnectorJson read(Path file, Map<String, String> variables) throws IOException {
        JsonNode root = JSON.readTree(file.toFile());
        Map<String, String> config = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("config").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String value = e.getValue().asText();
            for (Map.Entry<String, String> v : variables.entrySet()) {
                value = value.replace("${" + v.getKey() + "}", v.getValue());
            }
            config.put(e.getKey(), value);
        }
        return new ConnectorJson(root.path("name").asText(), config);
    }
}
