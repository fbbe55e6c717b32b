<?php
// Floor 3 of `make bench`: floor 2 (one token lookup in MariaDB) plus what queueing a call
// durably cannot avoid: a file of about the size of a call file (350 bytes) written in the
// stack's spool tmp/, fsynced (the wait for the disk), then unlinked. No rename into outgoing/:
// Asterisk never sees it. tests/bench/bench.sh fills in @DB_SOCK@/@DB_USER@/@DB_PASS@/@DB_NAME@
// and @SPOOL_TMP@.
declare(strict_types=1);
header('Content-Type: application/json');
$given = $_SERVER['HTTP_TOKEN'] ?? '';
try {
    $db = new PDO('mysql:unix_socket=@DB_SOCK@;dbname=@DB_NAME@;charset=utf8mb4', '@DB_USER@', '@DB_PASS@',
        [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $q = $db->prepare("SELECT val FROM kvstore_FreePBX_modules_Apicall WHERE `key` = 'token' AND id = 'noid'");
    $q->execute();
    $token = (string) $q->fetchColumn();
} catch (\Throwable $e) {
    http_response_code(503);
    echo '{"error":{"code":"database_unavailable"}}';
    return;
}
if ($token === '' || !hash_equals($token, $given)) {
    http_response_code(401);
    echo '{"error":{"code":"unauthorized"}}';
    return;
}
$path = '@SPOOL_TMP@/bench-durable-' . bin2hex(random_bytes(8)) . '.call';
$text = str_pad("Channel: Local/2003@from-internal\n", 349, '#') . "\n";
$fh = @fopen($path, 'x');
$ok = $fh !== false && fwrite($fh, $text) === strlen($text) && fsync($fh);
if ($fh !== false) {
    fclose($fh);
    @unlink($path);
}
if (!$ok) {
    http_response_code(500);
    echo '{"error":{"code":"spool_error"}}';
    return;
}
echo '{"status":"ok"}';
