"""The six examples of the seed's "Batch Context" page, run against zenoo-etl.

``seed-batch-context.md`` beside this file is the seed page, verbatim. Below
its "Usage Examples" code blocks follow unchanged but for two adaptations
(``tests/batch/test_seed_examples.py`` checks that nothing else differs, and
runs every example against a sandbox, checking what its comments promise):

* imports: the seed's names come from ``zenoo_etl``;
* connection: ``ZenooClient("localhost", port=8069)`` became
  ``ZenooClient(HOST, port=PORT)``, read from ``ZENOO_EXAMPLES_HOST`` and
  ``ZENOO_EXAMPLES_PORT`` (default ``localhost`` and ``8069``).

Run them against a sandbox with a database ``demo``::

    zenoo-etl sandbox --database demo --port 8069 &
    python examples/seed_batch_context.py

The seed's own comment on ``batch_with_rollback`` promises a rollback on
failure, but the example records the created ids only after ``execute()``
returned, so on a failure it has nothing to roll back: the library's own
``BatchContext.rollback()`` (not overridden) is what undoes a failed batch.
"""

# --- adapted: imports --------------------------------------------------------
import asyncio
import os
from typing import Any, Dict, List, Optional

from zenoo_etl import (
    BatchContext,
    BatchExecutionError,
    BatchOperation,
    BatchOperationResult,
    CreateOperation,
    DeleteOperation,
    UpdateOperation,
    ValidationError,
    ZenooClient,
)

# --- adapted: connection -----------------------------------------------------
HOST = os.environ.get("ZENOO_EXAMPLES_HOST", "localhost")
PORT = int(os.environ.get("ZENOO_EXAMPLES_PORT", "8069"))

# --- the seed's examples, verbatim below this line ---------------------------
async def basic_batch_context():
    """Demonstrate basic batch context usage."""
    
    async with ZenooClient(HOST, port=PORT) as client:
        await client.login("demo", "admin", "admin")
        
        # Operations are automatically executed on context exit
        async with client.batch() as batch:
            # Add operations
            batch.create("res.partner", {"name": "Partner 1", "email": "p1@example.com"})
            batch.create("res.partner", {"name": "Partner 2", "email": "p2@example.com"})
            batch.create("product.product", {"name": "Product 1", "list_price": 10.0})
        
        # Operations are executed here automatically
        print("Batch operations completed")

async def manual_batch_execution():
    """Demonstrate manual batch execution."""
    
    async with ZenooClient(HOST, port=PORT) as client:
        await client.login("demo", "admin", "admin")
        
        # Disable auto-execution
        async with BatchContext(client, auto_execute=False) as batch:
            batch.create("res.partner", {"name": "Manual Partner"})
            batch.create("product.product", {"name": "Manual Product"})
            
            # Execute manually
            results = await batch.execute()
            print(f"Created {len(results)} records manually")


async def batch_with_error_handling():
    """Demonstrate error handling in batch context."""
    
    async with ZenooClient(HOST, port=PORT) as client:
        await client.login("demo", "admin", "admin")
        
        try:
            async with client.batch() as batch:
                batch.create("res.partner", {"name": "Valid Partner"})
                batch.create("res.partner", {})  # Invalid - missing name
                batch.create("res.partner", {"name": "Another Partner"})
                
                # If an error occurs, the context will handle it
                
        except BatchExecutionError as e:
            print(f"Batch failed: {e}")
            print(f"Successful operations: {e.successful_count}")
            
            # Handle partial results
            for i, result in enumerate(e.partial_results):
                if result.success:
                    print(f"Operation {i}: Success - ID {result.data.id}")
                else:
                    print(f"Operation {i}: Failed - {result.error}")

async def batch_with_rollback():
    """Demonstrate batch rollback on error."""
    
    async with ZenooClient(HOST, port=PORT) as client:
        await client.login("demo", "admin", "admin")
        
        class RollbackBatchContext(BatchContext):
            """Batch context with rollback capability."""
            
            def __init__(self, client: ZenooClient):
                super().__init__(client, auto_execute=False)
                self.created_ids = []
            
            async def execute_with_rollback(self):
                """Execute with automatic rollback on failure."""
                try:
                    results = await self.execute()
                    
                    # Track created records for potential rollback
                    for result in results:
                        if hasattr(result, 'id'):
                            self.created_ids.append((result._model_name, result.id))
                    
                    return results
                    
                except Exception as e:
                    # Rollback created records
                    await self.rollback()
                    raise
            
            async def rollback(self):
                """Rollback created records."""
                for model_name, record_id in reversed(self.created_ids):
                    try:
                        await self.client.model(model_name).filter(id=record_id).delete()
                        print(f"Rolled back {model_name} ID {record_id}")
                    except Exception as rollback_error:
                        print(f"Rollback failed for {model_name} ID {record_id}: {rollback_error}")
        
        async with RollbackBatchContext(client) as batch:
            batch.create("res.partner", {"name": "Partner 1"})
            batch.create("res.partner", {"name": "Partner 2"})
            
            try:
                await batch.execute_with_rollback()
                print("Batch completed successfully")
            except Exception as e:
                print(f"Batch failed and rolled back: {e}")


class AdvancedBatchContext(BatchContext):
    """Advanced batch context with additional features."""
    
    def __init__(self, client: ZenooClient, batch_size: int = 100, parallel: bool = False):
        super().__init__(client)
        self.batch_size = batch_size
        self.parallel = parallel
        self.operation_groups = []
    
    async def execute_in_chunks(self) -> List[Any]:
        """Execute operations in chunks."""
        
        all_results = []
        
        # Split operations into chunks
        for i in range(0, len(self.operations), self.batch_size):
            chunk = self.operations[i:i + self.batch_size]
            
            if self.parallel:
                # Execute chunks in parallel
                chunk_results = await self._execute_parallel_chunk(chunk)
            else:
                # Execute chunks sequentially
                chunk_results = await self._execute_sequential_chunk(chunk)
            
            all_results.extend(chunk_results)
        
        return all_results
    
    async def _execute_parallel_chunk(self, operations: List[BatchOperation]) -> List[Any]:
        """Execute chunk operations in parallel."""
        
        # Group operations by type for parallel execution
        create_ops = [op for op in operations if isinstance(op, CreateOperation)]
        update_ops = [op for op in operations if isinstance(op, UpdateOperation)]
        delete_ops = [op for op in operations if isinstance(op, DeleteOperation)]
        
        tasks = []
        if create_ops:
            tasks.append(self._execute_create_operations(create_ops))
        if update_ops:
            tasks.append(self._execute_update_operations(update_ops))
        if delete_ops:
            tasks.append(self._execute_delete_operations(delete_ops))
        
        if tasks:
            results = await asyncio.gather(*tasks, return_exceptions=True)
            # Flatten results
            flattened_results = []
            for result in results:
                if isinstance(result, list):
                    flattened_results.extend(result)
                elif not isinstance(result, Exception):
                    flattened_results.append(result)
            return flattened_results
        
        return []
    
    async def _execute_sequential_chunk(self, operations: List[BatchOperation]) -> List[Any]:
        """Execute chunk operations sequentially."""
        
        results = []
        for operation in operations:
            try:
                result = await operation.execute(self.client)
                results.append(result)
            except Exception as e:
                # Handle individual operation errors
                results.append(BatchOperationResult(success=False, error=str(e)))
        
        return results

# Usage of advanced context
async def advanced_batch_example():
    """Demonstrate advanced batch context features."""
    
    async with ZenooClient(HOST, port=PORT) as client:
        await client.login("demo", "admin", "admin")
        
        # Large batch with chunking and parallel execution
        async with AdvancedBatchContext(client, batch_size=50, parallel=True) as batch:
            
            # Add many operations
            for i in range(500):
                batch.create("res.partner", {
                    "name": f"Bulk Partner {i}",
                    "email": f"bulk{i}@example.com"
                })
            
            for i in range(200):
                batch.create("product.product", {
                    "name": f"Bulk Product {i}",
                    "list_price": 10.0 + (i * 0.5)
                })
            
            # Operations will be executed in chunks with parallel processing
            results = await batch.execute_in_chunks()
            print(f"Bulk operations completed: {len(results)} records created")


class ValidatedBatchContext(BatchContext):
    """Batch context with operation validation."""
    
    def __init__(self, client: ZenooClient, validate_before_execute: bool = True):
        super().__init__(client)
        self.validate_before_execute = validate_before_execute
        self.validation_errors = []
    
    def create(self, model: str, data: Dict[str, Any]):
        """Add create operation with validation."""
        
        if self.validate_before_execute:
            validation_error = self._validate_create_data(model, data)
            if validation_error:
                self.validation_errors.append(validation_error)
                return
        
        super().create(model, data)
    
    def _validate_create_data(self, model: str, data: Dict[str, Any]) -> Optional[str]:
        """Validate create operation data."""
        
        # Basic validation rules
        if model == "res.partner":
            if not data.get("name"):
                return "Partner name is required"
            if data.get("email") and "@" not in data["email"]:
                return "Invalid email format"
        
        elif model == "product.product":
            if not data.get("name"):
                return "Product name is required"
            if data.get("list_price") and data["list_price"] < 0:
                return "Product price cannot be negative"
        
        return None
    
    async def execute(self) -> List[Any]:
        """Execute with pre-validation check."""
        
        if self.validation_errors:
            raise ValidationError(f"Validation failed: {self.validation_errors}")
        
        return await super().execute()

# Usage with validation
async def validated_batch_example():
    """Demonstrate batch context with validation."""
    
    async with ZenooClient(HOST, port=PORT) as client:
        await client.login("demo", "admin", "admin")
        
        try:
            async with ValidatedBatchContext(client) as batch:
                batch.create("res.partner", {"name": "Valid Partner", "email": "valid@example.com"})
                batch.create("res.partner", {"email": "invalid-email"})  # Missing name
                batch.create("product.product", {"name": "Valid Product", "list_price": 10.0})
                batch.create("product.product", {"list_price": -5.0})  # Missing name, negative price
                
        except ValidationError as e:
            print(f"Validation failed: {e}")
            print("Please fix validation errors and try again")


# --- not in the seed: run them all --------------------------------------------
EXAMPLES = [
    basic_batch_context,
    manual_batch_execution,
    batch_with_error_handling,
    batch_with_rollback,
    advanced_batch_example,
    validated_batch_example,
]

if __name__ == "__main__":
    for example in EXAMPLES:
        print(f"--- {example.__name__}")
        asyncio.run(example())
