package io.pgtrickle.connect.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/** A connector's REST JSON ({"name", "config"}) as a flat map with ${NAME} replaced, plus "name". */
final class ConnectorJson {
    private ConnectorJson() {
    }

    static Map<String, String> read(Path file, Map<String, String> variables) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        Map<String, String> config = new HashMap<>();
        config.put("name", root.path("name").asText());
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("config").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String value = e.getValue().asText();
            for (Map.Entry<String, String> v : variables.entrySet()) {
                value = value.replace("${" + v.getKey() + "}", v.getValue());
            }
            config.put(e.getKey(), value);
        }
        return config;
    }
}
