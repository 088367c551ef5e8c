"""Queries of /proc files, compared with native: /proc/<pid>/fdinfo of the model's own
files, PROCMAP_QUERY on /proc/<pid>/maps, FIONREAD of /proc and /sys files."""


def test_inotify_fdinfo(build, run_native, run_sandboxed, assert_same_behaviour):
    binary = build("proc_fdinfo_inotify")
    native = run_native([binary])
    assert native.returncode == 0 and "inotify wd:3" in native.stdout, native.stderr
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


def test_procmap_query_and_fionread(build, run_native, run_sandboxed, assert_same_behaviour):
    binary = build("proc_procmap")
    native = run_native([binary])
    assert native.returncode == 0 and "main name short: ENAMETOOLONG" in native.stdout, native.stderr
    assert_same_behaviour([binary], native, run_sandboxed([binary]))
