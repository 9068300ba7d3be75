/*
 * The aarch64 BTI build runs the suite as a shared object linked with -z force-bti
 * (Debian's arm64 start files have no BTI landing pads, so no executable can be):
 * this plain executable only calls its entry point.
 */
int sc_suite_main(void);

int main(void)
{
	return sc_suite_main();
}
