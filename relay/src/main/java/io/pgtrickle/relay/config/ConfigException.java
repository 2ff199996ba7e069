package io.pgtrickle.relay.config;

import java.util.List;

/** relay.toml (or the environment) is invalid; {@link #problems()} lists everything found, in file order. */
public class ConfigException extends RuntimeException {
    private final List<ConfigProblem> problems;

    public ConfigException(String sourceName, List<ConfigProblem> problems) {
        super(message(sourceName, problems));
        this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String message(String sourceName, List<ConfigProblem> problems) {
        StringBuilder s = new StringBuilder(sourceName).append(": ").append(problems.size())
                .append(problems.size() == 1 ? " problem" : " problems");
        for (ConfigProblem p : problems) {
            s.append("\n  - ").append(p);
        }
        return s.toString();
    }
}
