package io.pgtrickle.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/** The machine a benchmark ran on, for figures pasted into documents. */
public final class Machine {
    private Machine() {
    }

    /** CPUs, CPU model, operating system and Java. */
    public static String describe() {
        String cpu = cpuModel().map(m -> ", " + m).orElse("");
        return Runtime.getRuntime().availableProcessors() + " CPUs (nproc)" + cpu + "; "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch") + "; Java " + Runtime.version() + " ("
                + System.getProperty("java.vm.name") + ", " + System.getProperty("java.vendor") + ")";
    }

    private static Optional<String> cpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return Optional.empty();
        }
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).strip().replaceAll("\\s+", " "));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
