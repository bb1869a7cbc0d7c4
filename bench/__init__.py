"""chatledger's benchmarks: append latency, reads, time travel and storage on real chat text,
and what a chat turn costs over a direct call to the model provider.

Run with `make bench` (`python -m bench --quick|--full`); results and method in
docs/benchmarks.md. One idea per module:

- `sharegpt`: the conversations of the truncated ShareGPT dump, as chatledger messages;
- `plan`: what the quick and full runs measure; `databases`: fresh SQLite/PostgreSQL;
- `chatledger_runs`: the Python API (building sessions, history reads, time travel);
- `floor`: the raw drivers underneath; `appends`: single appends of both, interleaved;
- `backend_run`: one backend's run; `storage`: bytes on disk; `latency`: summaries;
- `environment`, `report`, `plot`, `markdown`: what a run records and shows;
- `profile_appends`: pyinstrument over 500 appends (`python -m bench.profile_appends`), or
  the CPU time per append with `--cpu`;
- `chat_turns`: a chat turn through chatledger (`achat`, `astream`, HTTP) against direct
  httpx calls to `fake_openai`, a fake OpenAI server in its own process;
- `profile_chat`: pyinstrument over 200 chat turns (`python -m bench.profile_chat`).
"""
