//! Multi-process fault-injection tests of Yaoshi clusters. The harness starts real `yaoshi`
//! processes on loopback and injects faults (SIGKILL, SIGSTOP/SIGCONT, restart); the tests in
//! `tests/` check what every node recorded.
