<?php
// Not a floor but a step between the floors and the API of `make bench` ("+config"): floor 1
// plus how the module's entry points get their configuration (includes/bootstrap.php: the
// configuration this Apache worker kept, checked with one kvstore read; the FreePBX bootstrap
// and Apicall::coreConfig() when there is none or it changed), and no other call into the
// extension. tests/bench/bench.sh fills in @REPO@.
declare(strict_types=1);
require '@REPO@/includes/bootstrap.php';
header('Content-Type: application/json');
echo isset($apicallConfig) ? '{"status":"ok"}' : '{"status":"no config"}';
