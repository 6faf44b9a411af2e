"""Speed benchmarks for qbank: ``qbank bench`` from a checkout (or ``python -m bench``).

Tooling, not product: this folder is not part of the installed package.
``qbank bench`` imports it from the checkout when the command runs, and says
so when there is no checkout.  Sections: ``ingest``, ``inprocess``,
``peer`` (Haystack), ``serving`` (``--http``: a real ``qbank serve`` under
load, from ``server`` and ``loadgen``) and ``scale`` (``replicate``);
``stats`` holds the shared figures, ``summary`` the targets and the printed
summary, ``cli`` the command.  Reports go to ``bench/reports/``.
"""
