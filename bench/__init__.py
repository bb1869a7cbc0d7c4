"""chatledger's benchmarks: append latency, reads, time travel and storage on real chat text.

Run with `make bench` (`python -m bench --quick|--full`); results and method in
docs/benchmarks.md. One idea per module:

- `sharegpt`: the conversations of the truncated ShareGPT dump, as chatledger messages;
- `plan`: what the quick and full runs measure; `databases`: fresh SQLite/PostgreSQL;
- `chatledger_runs`: the Python API (building sessions, history reads, time travel);
- `floor`: the raw drivers underneath; `appends`: single appends of both, interleaved;
- `backend_run`: one backend's run; `storage`: bytes on disk; `latency`: summaries;
- `environment`, `report`, `plot`, `markdown`: what a run records and shows;
- `profile_appends`: pyinstrument over 500 appends (`python -m bench.profile_appends`).
"""
