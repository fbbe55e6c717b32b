<?php
// Floor 2 of `make bench`: floor 1 plus one token lookup in MariaDB, the way a plain PHP page
// does it (a new PDO connection over the stack's socket, one prepared SELECT, a constant-time
// compare). tests/bench/bench.sh fills in @DB_SOCK@/@DB_USER@/@DB_PASS@/@DB_NAME@.
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
echo '{"status":"ok"}';
