"""The peer benchmark (issue 6): chatledger beside LangGraph's checkpointers, the OpenAI
Agents SDK's sessions and the raw database drivers, on the same ShareGPT conversations and
in the same run.

    make bench                                   # = python -m bench.peers (quick, < 5 min)
    make bench BENCH_ARGS=--full                 # every conversation, bigger budgets

Every system sits behind one small adapter (`bench.peers.system.System`) on its own fresh
SQLite file or PostgreSQL database; for the chat turns, behind a `ChatSystem` that runs a
turn against the fake provider of `bench.fake_openai`, beside a direct call to it.
Figures go to `bench/results/peers-<plan>.json`; the tables and the plot in
docs/benchmarks.md are rendered from that file (`python -m bench.peers.render`), so a
re-run regenerates them.
"""
