/*
 * The no-JVM floor of Cairn's stress benchmarks: the pairs, batch, glibc-simple and alloc-test workloads of
 * bench/src/main/java/dev/cairn/bench/workload (PairsWorkload, BatchWorkload, GlibcSimpleWorkload,
 * AllocTestWorkload) in C, drawing the same sizes and free orders from the same SplitMix64 seeds, writing and
 * checking the same bytes per block. scripts/bench
 * builds it once per allocator: plain malloc/free (glibc; jemalloc when linked with -l:libjemalloc.so.2, which
 * then is the process's malloc) and mi_malloc/mi_free (-DFLOOR_MIMALLOC, linked with -l:libmimalloc.so.2).
 *
 * usage: floor-X WORKLOAD THREADS REPS [name=value ...]   (names as in `scripts/bench --list`)
 * Prints the line the stress runner parses (ChildReport): CAIRN-RESULT times=... operations=... idleRss=...
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef FLOOR_MIMALLOC
void *mi_malloc(size_t size);
void mi_free(void *p);
#define FLOOR_MALLOC mi_malloc
#define FLOOR_FREE mi_free
#else
#define FLOOR_MALLOC malloc
#define FLOOR_FREE free
#endif

#define SIZE_TABLE 4096
#define PAIRS_SEED 0x5EEDull
#define BATCH_SEED 0xBA7Cull
#define PERMUTATIONS 8
#define ALLOC_TEST_SEED 0xA77E57ull
#define ALLOC_TEST_TABLE (1 << 16)

typedef struct { uint64_t state; } splitmix64;

static uint64_t sm_next(splitmix64 *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Same as SplitMix64.nextInt: (next >>> 1) % bound. */
static int sm_int(splitmix64 *r, int bound) { return (int) ((sm_next(r) >> 1) % (uint64_t) bound); }

static int floor_log2(int v) { return 31 - __builtin_clz((unsigned) v); }

typedef struct {
    long ops, rounds, blocks, min_size, max_size, iterations, slots;
} params;

typedef struct {
    const params *p;
    const char *workload;
    int index, threads;
    uint64_t mallocs, frees, checksum, bytes;
} worker;

/* BlockCheck.tag: the byte written first (and complemented last) into every block. */
static uint8_t tag(uintptr_t handle, long size) {
    uint64_t x = ((uint64_t) handle ^ ((uint64_t) size << 40)) * 0x9E3779B97F4A7C15ull;
    return (uint8_t) (x >> 56);
}

static void *malloc_filled(long size, worker *w) {
    unsigned char *p = FLOOR_MALLOC((size_t) size);
    if (p == NULL) {
        fprintf(stderr, "floor: malloc(%ld) returned NULL\n", size);
        exit(1);
    }
    uint8_t t = tag((uintptr_t) p, size);
    p[0] = t;
    if (size > 1) p[size - 1] = (uint8_t) ~t; /* a 1-byte block holds the tag alone, as in BlockCheck */
    w->mallocs++;
    w->bytes += (uint64_t) size;
    return p;
}

static void check_and_free(void *block, long size, worker *w) {
    unsigned char *p = block;
    uint8_t t = tag((uintptr_t) p, size);
    uint8_t last = size > 1 ? p[size - 1] : (uint8_t) ~p[0];
    uint8_t want = (uint8_t) ~t;
    if (p[0] != t || last != want) {
        fprintf(stderr, "floor: block %p of %ld bytes was overwritten\n", block, size);
        exit(1);
    }
    w->checksum += p[0] + last;
    FLOOR_FREE(block);
    w->frees++;
}

/* BlockCheck.touch: one byte in every 8 between the check bytes. */
static void touch(unsigned char *block, long size) {
    for (long offset = 8; offset < size - 1; offset += 8) block[offset] = (uint8_t) offset;
}

/* Sizes.octaves: a power-of-two octave uniformly, then a size uniform inside it, clamped. */
static void octaves(splitmix64 *r, int *sizes, int count, long min, long max) {
    int low = floor_log2((int) min), high = floor_log2((int) max);
    for (int i = 0; i < count; i++) {
        int octave = low + sm_int(r, high - low + 1);
        int size = (1 << octave) + sm_int(r, 1 << octave);
        sizes[i] = size < min ? (int) min : size > max ? (int) max : size;
    }
}

static void pairs(worker *w) {
    const params *p = w->p;
    splitmix64 r = {PAIRS_SEED + (uint64_t) w->index};
    int sizes[SIZE_TABLE];
    octaves(&r, sizes, SIZE_TABLE, p->min_size, p->max_size);
    for (long i = 0; i < p->ops; i++) {
        int size = sizes[i & (SIZE_TABLE - 1)];
        check_and_free(malloc_filled(size, w), size, w);
    }
}

static void batch(worker *w) {
    const params *p = w->p;
    long n = p->blocks;
    splitmix64 r = {BATCH_SEED + (uint64_t) w->index};
    int *sizes = malloc(sizeof(int) * n);
    int *orders = malloc(sizeof(int) * n * PERMUTATIONS);
    void **handles = malloc(sizeof(void *) * n);
    for (long i = 0; i < n; i++) {
        sizes[i] = (int) p->min_size + sm_int(&r, (int) (p->max_size - p->min_size + 1));
    }
    for (int k = 0; k < PERMUTATIONS; k++) { /* Sizes.permutation: Fisher-Yates from the top */
        int *order = orders + k * n;
        for (long i = 0; i < n; i++) order[i] = (int) i;
        for (long i = n - 1; i > 0; i--) {
            int j = sm_int(&r, (int) (i + 1));
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
    for (long round = 0; round < p->rounds; round++) {
        for (long i = 0; i < n; i++) handles[i] = malloc_filled(sizes[i], w);
        const int *order = orders + (round % PERMUTATIONS) * n;
        for (long i = 0; i < n; i++) check_and_free(handles[order[i]], sizes[order[i]], w);
    }
    free(handles);
    free(orders);
    free(sizes);
}

/* GlibcSimpleWorkload: every size and batch length, batches freed half FIFO, half LIFO. */
static void glibc_simple_sizes(worker *w) {
    static const int sizes[] = {16, 32, 64};
    static const int batches[] = {25, 100, 400, 1600};
    void *handles[1600];
    for (int s = 0; s < 3; s++) {
        for (int b = 0; b < 4; b++) {
            int size = sizes[s], n = batches[b];
            long rounds = w->p->iterations / n > 0 ? w->p->iterations / n : 1;
            for (long round = 0; round < rounds; round++) {
                for (int i = 0; i < n; i++) {
                    handles[i] = malloc_filled(size, w);
                    touch(handles[i], size);
                }
                for (int i = 0; i < n / 2; i++) check_and_free(handles[i], size, w);
                for (int i = n - 1; i >= n / 2; i--) check_and_free(handles[i], size, w);
            }
        }
    }
}

static void *glibc_simple_second(void *arg) {
    glibc_simple_sizes(arg);
    return NULL;
}

/* On the worker, on a fresh thread it starts and joins, and on the worker again. */
static void glibc_simple(worker *w) {
    glibc_simple_sizes(w);
    worker second = {.p = w->p, .workload = w->workload, .index = w->index, .threads = w->threads};
    pthread_t id;
    pthread_create(&id, NULL, glibc_simple_second, &second);
    pthread_join(id, NULL);
    w->mallocs += second.mallocs;
    w->frees += second.frees;
    w->checksum += second.checksum;
    w->bytes += second.bytes;
    glibc_simple_sizes(w);
}

/* AllocTestWorkload: random slots of this thread's share of the array toggled. */
static void alloc_test(worker *w) {
    const params *p = w->p;
    long slots = p->slots / w->threads > 0 ? p->slots / w->threads : 1;
    splitmix64 r = {ALLOC_TEST_SEED + (uint64_t) w->index};
    int *table = malloc(sizeof(int) * ALLOC_TEST_TABLE);
    void **handles = calloc((size_t) slots, sizeof(void *));
    int *sizes = calloc((size_t) slots, sizeof(int));
    octaves(&r, table, ALLOC_TEST_TABLE, p->min_size, p->max_size);
    for (long i = 0; i < p->ops; i++) {
        uint64_t x = sm_next(&r) >> 1;
        long slot = (long) (x % (uint64_t) slots);
        if (handles[slot] != NULL) {
            check_and_free(handles[slot], sizes[slot], w);
            handles[slot] = NULL;
        } else {
            int size = table[(x >> 40) & (ALLOC_TEST_TABLE - 1)];
            sizes[slot] = size;
            handles[slot] = malloc_filled(size, w);
            touch(handles[slot], size);
        }
    }
    for (long slot = 0; slot < slots; slot++) {
        if (handles[slot] != NULL) check_and_free(handles[slot], sizes[slot], w);
    }
    free(sizes);
    free(handles);
    free(table);
}

static void *run_worker(void *arg) {
    worker *w = arg;
    if (strcmp(w->workload, "pairs") == 0) pairs(w);
    else if (strcmp(w->workload, "batch") == 0) batch(w);
    else if (strcmp(w->workload, "glibc-simple") == 0) glibc_simple(w);
    else alloc_test(w);
    return NULL;
}

static long status_kb(const char *name) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t len = strlen(name);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, name, len) == 0) { kb = strtol(line + len, NULL, 10); break; }
    }
    if (f) fclose(f);
    return kb;
}

static void reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) { fputs("5", f); fclose(f); }
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* One repetition on `threads` threads; returns its wall time and adds the workers' counts to *total. */
static uint64_t repetition(const char *workload, const params *p, int threads, worker *total) {
    pthread_t ids[threads];
    worker workers[threads];
    uint64_t start = now_ns();
    for (int i = 0; i < threads; i++) {
        workers[i] = (worker) {.p = p, .workload = workload, .index = i, .threads = threads};
        pthread_create(&ids[i], NULL, run_worker, &workers[i]);
    }
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    uint64_t elapsed = now_ns() - start;
    for (int i = 0; i < threads; i++) {
        total->mallocs += workers[i].mallocs;
        total->frees += workers[i].frees;
        total->checksum += workers[i].checksum;
        total->bytes += workers[i].bytes;
    }
    return elapsed;
}

static long param(int argc, char **argv, const char *name, long fallback) {
    size_t len = strlen(name);
    for (int i = 4; i < argc; i++) {
        if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') return strtol(argv[i] + len + 1, NULL, 10);
    }
    return fallback;
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "pairs") != 0 && strcmp(argv[1], "batch") != 0
                     && strcmp(argv[1], "glibc-simple") != 0 && strcmp(argv[1], "alloc-test") != 0)) {
        fprintf(stderr, "usage: %s pairs|batch|glibc-simple|alloc-test THREADS REPS [name=value ...]\n", argv[0]);
        return 2;
    }
    const char *workload = argv[1];
    int threads = atoi(argv[2]), reps = atoi(argv[3]);
    if (threads < 1 || threads > 1024 || reps < 1) {
        fprintf(stderr, "floor: THREADS must be 1-1024 and REPS at least 1\n");
        return 2;
    }
    int allocTest = strcmp(workload, "alloc-test") == 0, glibcSimple = strcmp(workload, "glibc-simple") == 0;
    params p = {param(argc, argv, "ops", 3000000), param(argc, argv, "rounds", 300),
                param(argc, argv, "blocks", 10000), param(argc, argv, "minSize", allocTest ? 8 : 16),
                param(argc, argv, "maxSize", strcmp(workload, "pairs") == 0 ? 32768 : 1024),
                param(argc, argv, "iterations", 200000), param(argc, argv, "slots", 1 << 18)};
    if (p.min_size < 1 || p.max_size < p.min_size || p.blocks < 1 || p.iterations < 1 || p.slots < 1) {
        fprintf(stderr, "floor: need 1 <= minSize <= maxSize, and blocks, iterations, slots >= 1\n");
        return 2;
    }
    long perSize = 0; /* glibc-simple: blocks per size and phase, as GlibcSimpleWorkload counts them */
    for (long n = 25; n <= 1600; n *= 4) perSize += (p.iterations / n > 0 ? p.iterations / n : 1) * n;
    long operations = (strcmp(workload, "pairs") == 0 || allocTest ? p.ops
                       : glibcSimple ? 9 * perSize : p.rounds * p.blocks) * threads;
    long idle = status_kb("VmRSS:");
    reset_peak();
    worker total = {0};
    repetition(workload, &p, threads, &total); /* unmeasured, as the JVM children's first full repetition */
    printf("CAIRN-RESULT times=");
    for (int r = 0; r < reps; r++) {
        printf(r ? ",%" PRIu64 : "%" PRIu64, repetition(workload, &p, threads, &total));
    }
    long peak = status_kb("VmHWM:");
    if (total.mallocs != total.frees) {
        fprintf(stderr, "floor: %" PRIu64 " mallocs but %" PRIu64 " frees\n", total.mallocs, total.frees);
        return 1;
    }
    /* bytes and checksum are extra fields (the runner ignores them): tests compare them with the Java workload's. */
    printf(" operations=%ld idleRss=%ld peakRss=%ld endRss=%ld mallocs=%" PRIu64 " frees=%" PRIu64
           " bytes=%" PRIu64 " checksum=%" PRIu64 "\n",
           operations, idle * 1024, (peak > idle ? peak : idle) * 1024, status_kb("VmRSS:") * 1024,
           total.mallocs, total.frees, total.bytes, total.checksum);
    return 0;
}
