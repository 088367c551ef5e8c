/*
 * Eight threads: a mutex-protected counter, a bounded producer/consumer
 * queue on a mutex and two condition variables, a barrier, thread-specific
 * data, pthread_join of every result, and a thread that blocks in read() on
 * a pipe while the others run.  Only totals are printed.
 */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define THREADS 8
#define PRODUCERS 4
#define ITEMS 2000              /* per producer */
#define QUEUE 16

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static long queue[QUEUE];
static int head, count, producers_left = PRODUCERS;

static pthread_barrier_t barrier;
static pthread_key_t key;
static int serial_waiters;

static void put(long v)
{
    pthread_mutex_lock(&queue_lock);
    while (count == QUEUE)
        pthread_cond_wait(&not_full, &queue_lock);
    queue[(head + count) % QUEUE] = v;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&queue_lock);
}

/* Returns 0 when every producer is done and the queue is empty. */
static int take(long *v)
{
    pthread_mutex_lock(&queue_lock);
    while (count == 0 && producers_left > 0)
        pthread_cond_wait(&not_empty, &queue_lock);
    if (count == 0) {
        pthread_mutex_unlock(&queue_lock);
        return 0;
    }
    *v = queue[head];
    head = (head + 1) % QUEUE;
    count--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&queue_lock);
    return 1;
}

static void *worker(void *arg)
{
    long id = (long)arg;
    long *mine = malloc(sizeof *mine);
    *mine = id * 1000;
    pthread_setspecific(key, mine);
    for (int i = 0; i < 5000; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
    }
    if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
        __atomic_add_fetch(&serial_waiters, 1, __ATOMIC_SEQ_CST);
    long result = 0;
    if (id < PRODUCERS) {
        for (long i = 1; i <= ITEMS; i++) {
            put(i);
            result += i;
        }
        pthread_mutex_lock(&queue_lock);
        producers_left--;
        pthread_cond_broadcast(&not_empty);
        pthread_mutex_unlock(&queue_lock);
    } else {
        long v;
        while (take(&v))
            result += v;
    }
    /* thread-specific data is still this thread's own */
    if (*(long *)pthread_getspecific(key) != id * 1000)
        result = -1;
    return (void *)result;
}

/* A thread's name and its /proc/self/task entry, set from another thread. */
static pthread_barrier_t named;
static pid_t named_tid;

static void *named_thread(void *arg)
{
    (void)arg;
    named_tid = gettid();
    pthread_setname_np(pthread_self(), "self-named");
    pthread_barrier_wait(&named);       /* named by itself */
    pthread_barrier_wait(&named);       /* renamed by main */
    char name[16];
    pthread_getname_np(pthread_self(), name, sizeof name);
    printf("thread sees its name: %s\n", name);
    return NULL;
}

static void thread_names(void)
{
    pthread_t t;
    char name[16], path[64], buf[128];
    pthread_barrier_init(&named, NULL, 2);
    pthread_create(&t, NULL, named_thread, NULL);
    pthread_barrier_wait(&named);
    SHOW(pthread_getname_np(t, name, sizeof name));     /* reads /proc/self/task/<tid>/comm */
    printf("name: %s\n", name);
    SHOW(pthread_setname_np(t, "renamed-by-main"));      /* writes it */
    SHOW(pthread_setname_np(t, "a-name-much-too-long"));
    SHOW(pthread_getname_np(t, name, sizeof name));
    printf("name: %s\n", name);
    /* the thread's stat line names it too; the process's keeps the leader's name */
    pid_t tid = named_tid;
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    int fd = open(path, O_RDONLY);
    long n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    printf("task stat name: %.*s\n", close_paren && open_paren ? (int)(close_paren - open_paren + 1) : 0,
           open_paren);
    /* a thread of another process may not be renamed */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    snprintf(path, sizeof path, "/proc/%d/comm", child);
    fd = open(path, O_WRONLY);
    OK(fd);
    SHOW(write(fd, "nope", 4));
    close(fd);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* but this process's may, through /proc/<pid>/comm */
    snprintf(path, sizeof path, "/proc/%d/comm", getpid());
    fd = open(path, O_WRONLY);
    SHOW(write(fd, "leader", 6));
    close(fd);
    SHOW(prctl(PR_GET_NAME, name));
    printf("leader name: %s\n", name);
    /* one directory per thread */
    snprintf(path, sizeof path, "/proc/self/task/%d", tid);
    CHECK(access(path, F_OK) == 0);
    snprintf(path, sizeof path, "/proc/self/task/%d", getpid());
    CHECK(access(path, F_OK) == 0);
    pthread_barrier_wait(&named);
    pthread_join(t, NULL);
    snprintf(path, sizeof path, "/proc/self/task/%d", tid);
    SHOW(access(path, F_OK));
}

static void *pipe_reader(void *arg)
{
    int fd = *(int *)arg;
    char buf[16];
    long n = read(fd, buf, sizeof buf);
    return (void *)n;
}

int main(void)
{
    pthread_t t[THREADS], r;
    int p[2];
    pipe(p);
    pthread_create(&r, NULL, pipe_reader, &p[0]);   /* blocks until the end */
    pthread_barrier_init(&barrier, NULL, THREADS);
    pthread_key_create(&key, free);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    long produced = 0, consumed = 0;
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        if ((long)ret < 0)
            bad++;
        else if (i < PRODUCERS)
            produced += (long)ret;
        else
            consumed += (long)ret;
    }
    printf("counter = %ld\n", counter);
    printf("produced = %ld, consumed = %ld\n", produced, consumed);
    printf("barrier serial threads = %d\n", serial_waiters);
    printf("bad thread-specific data = %d\n", bad);
    SHOW(write(p[1], "done", 4));
    void *ret;
    pthread_join(r, &ret);
    printf("pipe reader read %ld\n", (long)ret);
    thread_names();
    return 0;
}
