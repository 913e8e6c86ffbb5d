/* s: a scenario file that includes nothing of the project. */
