"""What the forecasting tests share: one torch thread and one BLAS thread (every fit scores the
ETS baseline, whose L-BFGS-B fit takes several times the CPU on two OpenBLAS threads)."""
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread, one BLAS thread)
