package dev.keyhold.signing;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The scheduling policy change itself, on real threads of a Netty event loop group (Linux only). */
class EventLoopSchedulingTest {

    private DefaultEventLoopGroup loops;

    @BeforeEach
    void linuxOnly() {
        assumeTrue(Files.isDirectory(Path.of("/proc/thread-self")), "scheduling policies are Linux-only");
        loops = new DefaultEventLoopGroup(3);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (loops != null) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void everyLoopTakesTheBatchPolicyAndCanBeGivenTheNormalOneBack() throws Exception {
        assertThat(policies()).containsOnly(EventLoopScheduling.SCHED_OTHER);
        assertThat(EventLoopScheduling.apply(loops, EventLoopScheduling.SCHED_BATCH)).isNull();
        assertThat(policies()).hasSize(3).containsOnly(EventLoopScheduling.SCHED_BATCH);
        // Threads started from a batch thread inherit its policy (what the signing threads undo).
        List<Integer> child = new ArrayList<>();
        loops.next().submit(() -> {
            Thread t = new Thread(() -> child.add(ownPolicy()));
            t.start();
            t.join();
            return null;
        }).get(5, TimeUnit.SECONDS);
        assertThat(child).containsExactly(EventLoopScheduling.SCHED_BATCH);
        assertThat(EventLoopScheduling.apply(loops, EventLoopScheduling.SCHED_OTHER)).isNull();
        assertThat(policies()).containsOnly(EventLoopScheduling.SCHED_OTHER);
    }

    @Test
    void aRefusedChangeIsReportedNotThrownAndChangesNothing() throws Exception {
        // 42 is no scheduling policy: the kernel answers EINVAL (22).
        assertThat(EventLoopScheduling.apply(loops, 42)).isEqualTo("sched_setscheduler failed, errno 22");
        assertThat(policies()).containsOnly(EventLoopScheduling.SCHED_OTHER);
    }

    /** The policy of each thread of the group, asked from the thread itself. */
    private List<Integer> policies() throws Exception {
        List<Integer> out = new ArrayList<>();
        for (EventExecutor loop : loops) {
            out.add(loop.submit(EventLoopSchedulingTest::ownPolicy).get(5, TimeUnit.SECONDS));
        }
        return out;
    }

    static int ownPolicy() {
        return policy(Path.of("/proc/thread-self/stat"));
    }

    /** Field 41 of /proc/.../stat: the scheduling policy (0 normal, 3 batch). */
    static int policy(Path stat) {
        try {
            String s = Files.readString(stat);
            return Integer.parseInt(s.substring(s.lastIndexOf(')') + 2).split(" ")[38]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Policies of this process's threads, by thread name as the kernel keeps it (15 characters). */
    static Map<String, Set<Integer>> processPolicies() throws IOException {
        Map<String, Set<Integer>> out = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    String comm = Files.readString(task.resolve("comm")).strip();
                    out.computeIfAbsent(comm.replaceAll("[-#]?\\d+$", ""), k -> new TreeSet<>())
                            .add(policy(task.resolve("stat")));
                } catch (IOException | UncheckedIOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return out;
    }
}
