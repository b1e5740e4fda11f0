/*
 * A reference Kafka for the golden-bytes captures: librdkafka's built-in mock
 * cluster, started from the outside so that any client can talk to it.
 *
 * Usage: mock-cluster [--brokers N] [--max-seconds S] [topic[:partitions] ...]
 *
 * Prints the bootstrap address ("127.0.0.1:PORT[,...]") as the first line on
 * stdout, then runs until stdin reaches EOF, SIGTERM/SIGINT arrives, or
 * --max-seconds (default 900) pass, whichever comes first.
 *
 * Build: gcc -O1 -o mock-cluster mock-cluster.c $(pkg-config --cflags --libs rdkafka)
 * (scripts/capture/capture.ts builds it into a temporary directory.)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
        (void)sig;
        stop_requested = 1;
}

static void die(const char *what) {
        fprintf(stderr, "mock-cluster: %s\n", what);
        exit(1);
}

int main(int argc, char **argv) {
        int brokers = 1;
        long max_seconds = 900;
        char errstr[512];
        int i;

        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        signal(SIGPIPE, SIG_IGN);

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        /* The handle only hosts the mock cluster; keep it quiet. */
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
                die(errstr);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk)
                die(errstr);

        /* Options first, so the cluster is sized before topics are created. */
        for (i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--brokers") && i + 1 < argc)
                        brokers = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--max-seconds") && i + 1 < argc)
                        max_seconds = atol(argv[++i]);
        }
        if (brokers < 1)
                die("--brokers must be >= 1");

        rd_kafka_mock_cluster_t *mcluster = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mcluster)
                die("rd_kafka_mock_cluster_new failed");

        for (i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--brokers") || !strcmp(argv[i], "--max-seconds")) {
                        i++;
                        continue;
                }
                char name[256];
                int partitions = 1;
                snprintf(name, sizeof(name), "%s", argv[i]);
                char *colon = strchr(name, ':');
                if (colon) {
                        *colon = '\0';
                        partitions = atoi(colon + 1);
                        if (partitions < 1)
                                partitions = 1;
                }
                rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mcluster, name, partitions, 1);
                if (err)
                        fprintf(stderr, "mock-cluster: topic %s: %s\n", name, rd_kafka_err2str(err));
        }

        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        time_t deadline = time(NULL) + max_seconds;
        while (!stop_requested && time(NULL) < deadline) {
                struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
                int r = poll(&pfd, 1, 200);
                if (r < 0 && errno != EINTR)
                        break;
                if (r > 0) {
                        char buf[256];
                        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n <= 0)
                                break; /* EOF or error: the parent is gone */
                }
        }

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
